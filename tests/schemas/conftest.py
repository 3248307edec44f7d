import pytest

from apps.access import services as svc
from apps.schemas import services
from tests.factories import UserFactory

ORDER = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "minLength": 1},
        "total": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "email": {"type": "string"},
    },
    "required": ["order_id", "total"],
}
PURPOSES = {
    "order_id": {"purpose": "order fulfilment", "data_category": "product"},
    "total": {"purpose": "revenue reporting", "data_category": "financial"},
    "currency": {"purpose": "revenue reporting", "data_category": "financial"},
    "email": {"purpose": "receipts", "data_category": "contact"},
}


@pytest.fixture
def editor(admin):
    """May draft and publish compatible changes, not breaking ones."""
    person = UserFactory(full_name="Eddie Editor")
    role = svc.role_create(actor=admin, name="Schema editors", owner=admin)
    for code in ("schemas.view", "schemas.edit"):
        svc.role_capability_set(actor=admin, role=role, capability=code)
    svc.role_assign(actor=admin, user=person, role=role)
    return person


@pytest.fixture
def order(admin):
    """Order Completed 1-0-0, published."""
    schema = services.schema_create(
        actor=admin, name="Order Completed", json_schema=ORDER, fields=PURPOSES
    )
    return services.version_publish(actor=admin, version=schema.versions.get())
