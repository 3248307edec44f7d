import pytest

from apps.consent.defaults import ensure_default_purposes


@pytest.fixture(autouse=True)
def default_purposes(db):
    """The migration creates them, but a transactional test elsewhere may have flushed them."""
    ensure_default_purposes()
