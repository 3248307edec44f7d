"""The sync-row store: what goes in by name comes back by name, in key order, on either
engine and on each of its read paths (held scan in a transaction, its own connection
outside one, keyset pages on SQLite)."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import pytest
from django.db import connection

from apps.syncs import services, store
from apps.syncs.models import SyncRow
from apps.syncs.store import Failure, RowState, StatePage

from .conftest import destination_for

AT = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(hours=1)


@dataclass
class Sent:
    key: str
    subject: str
    fingerprint: bytes


@pytest.fixture
def sync(admin, tool, webhook_vendor):
    warehouse = services.warehouse_create(actor=admin, name="Console", kind="console")
    model = services.model_create(
        actor=admin,
        name="Profiles",
        warehouse=warehouse,
        primary_key="profile_id",
        sql="SELECT profile_id, email FROM activation.profiles",
    )
    return services.sync_create(
        actor=admin,
        name="Profiles to the hook",
        model=model,
        destination=destination_for(admin, tool, webhook_vendor),
        object="contacts",
        mode="mirror",
        subject_column="email",
        subject_type="email",
        mappings=[],
    )


def read_all(sync_id: int, size: int = 10_000) -> list[StatePage]:
    pages = store.state_pages(sync_id, size=size)
    try:
        return list(pages)
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()


def record_three(sync) -> None:
    store.acknowledge(
        sync.pk,
        [Sent("k2", "email:b@x.example", b"\x02" * 16), Sent("k1", "email:a@x.example", b"\x01")],
        at=AT,
    )
    store.fail(
        sync.pk,
        [Failure("k3", "email:c@x.example", "400: no such list"), Failure("k2", "", "429: later")],
        at=LATER,
    )


def expected_three() -> list[RowState]:
    return [
        RowState(
            key="k1",
            fingerprint=b"\x01",
            acknowledged=True,
            failed=False,
            subject="email:a@x.example",
        ),
        # failed after it was acknowledged: the destination still holds the old values
        RowState(
            key="k2",
            fingerprint=b"\x02" * 16,
            acknowledged=True,
            failed=True,
            subject="email:b@x.example",
        ),
        RowState(
            key="k3", fingerprint=None, acknowledged=False, failed=True, subject="email:c@x.example"
        ),
    ]


def as_read(pages: list[StatePage]) -> list[RowState]:
    """Each page's rows, with the fingerprint as bytes (it may come back as a memoryview)."""
    return [
        state._replace(fingerprint=None if state.fingerprint is None else bytes(state.fingerprint))
        for page in pages
        for state in page.rows()
    ]


def test_the_store_gives_back_by_name_what_it_was_given_by_name(sync):
    record_three(sync)

    pages = read_all(sync.pk)

    assert as_read(pages) == expected_three()
    assert all(isinstance(page, StatePage) for page in pages)
    assert [len(page) for page in pages] == [3]
    k2 = SyncRow.objects.get(sync=sync, key="k2")
    assert (k2.synced_at, k2.failed_at, k2.error) == (AT, LATER, "429: later")


def test_an_acknowledgement_clears_the_error_of_an_earlier_failure(sync):
    record_three(sync)

    store.acknowledge(sync.pk, [Sent("k3", "email:c@x.example", b"\x03")], at=LATER)

    k3 = as_read(read_all(sync.pk))[2]
    assert k3 == RowState("k3", b"\x03", acknowledged=True, failed=False, subject=k3.subject)
    assert SyncRow.objects.get(sync=sync, key="k3").failed_at is None


def test_state_comes_in_pages_of_the_asked_size_in_byte_order_of_the_keys(sync):
    keys = ["b", "B", "a", "_", "a0", "Z"]
    store.acknowledge(sync.pk, [Sent(k, f"email:{k}@x.example", b"f") for k in keys], at=AT)

    pages = read_all(sync.pk, size=4)

    assert [len(page) for page in pages] == [4, 2]
    assert [s.key for s in as_read(pages)] == sorted(keys, key=str.encode)


def test_forgetting_a_key_drops_its_state_and_only_its_state(sync):
    record_three(sync)

    store.forget(sync.pk, "k2")

    assert [s.key for s in as_read(read_all(sync.pk))] == ["k1", "k3"]


def test_a_long_error_is_kept_to_its_first_two_thousand_characters(sync):
    store.fail(sync.pk, [Failure("k1", "email:a@x.example", "x" * 5000)], at=AT)

    assert SyncRow.objects.get(sync=sync, key="k1").error == "x" * store.ERROR_CHARS


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the own-connection read is PostgreSQL's"
)
def test_outside_a_transaction_the_state_is_read_through_a_connection_of_its_own(sync):
    record_three(sync)
    assert not connection.in_atomic_block

    pages = store.state_pages(sync.pk, size=2)

    assert "sync-state-reader" in {t.name for t in threading.enumerate()}  # reads ahead
    try:
        assert as_read(list(pages)) == expected_three()
    finally:
        pages.close()
