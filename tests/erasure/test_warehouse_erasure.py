"""Erasure reaches a warehouse destination: its task deletes the person's rows from every
table the destination loaded (a real DuckDB file), counts them per table as evidence, adds
the person's hashes to deleted_users, and a failing warehouse is tried again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.destinations import services as destinations
from apps.destinations.models import LoadStatus
from apps.destinations.warehouse import loader
from apps.erasure import services
from apps.erasure.models import TaskKind, TaskStatus
from apps.erasure.propagation import propagate
from apps.events import services as events
from apps.events.pipeline import process_waiting
from tests.destinations.conftest import duck_warehouse, send, warehouse_destination

from .conftest import verified


@pytest.fixture
def duck(settings, tmp_path):
    return duck_warehouse(settings, tmp_path)


@pytest.fixture
def loaded(client, admin, tool, duck):
    """A warehouse destination that loaded Ana's and Bo's events."""
    destination = warehouse_destination(admin, tool, duck)
    _, raw = events.source_create(actor=admin, name="Web", rate_limit=10_000)
    messages = []
    for n, (user, anon, email) in enumerate(
        [("cus_1", "ajs-ana-phone", "ana@acme.example"), ("cus_2", "ajs-bo", "bo@acme.example")]
    ):
        messages += [
            {
                "type": "identify",
                "messageId": f"i{n}",
                "userId": user,
                "anonymousId": anon,
                "traits": {"email": email},
            },
            {
                "type": "track",
                "event": "Order Completed",
                "messageId": f"t{n}",
                "anonymousId": anon,
                "properties": {"revenue": 10},
            },
            {
                "type": "page",
                "messageId": f"p{n}",
                "anonymousId": anon,
                "context": {"traits": {"email": email}},
            },
        ]
    send(client, raw, messages)
    process_waiting()
    assert loader.load(destination).status == LoadStatus.LOADED
    return destination


def _counts(duck) -> dict[str, int]:
    return {
        table: duck.read(f"SELECT count(*) FROM martech_events.{table}")[0][0]  # noqa: S608
        for table in ("tracks", "order_completed", "pages", "identifies", "users")
    }


def test_the_warehouse_task_deletes_the_persons_rows_from_every_table_and_counts_them(
    admin, loaded, duck
):
    # given: Ana's and Bo's rows in five tables
    assert _counts(duck) == {
        "tracks": 2,
        "order_completed": 2,
        "pages": 2,
        "identifies": 2,
        "users": 2,
    }
    request = services.request_approve(actor=admin, request=verified(admin, "user_id:cus_1"))
    task = request.tasks.get(destination=loaded)
    assert (task.kind, task.status) == (TaskKind.API, TaskStatus.PENDING)

    # when
    propagate(task.pk)

    # then: only Bo is left, and the evidence counts what went per table
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE, task.last_error
    assert _counts(duck) == dict.fromkeys(
        ["tracks", "order_completed", "pages", "identifies", "users"], 1
    )
    assert duck.read("SELECT id FROM martech_events.users") == [("cus_2",)]
    assert duck.read("SELECT count(*) FROM martech_events.pages WHERE anonymous_id = 'ajs-bo'") == [
        (1,)
    ]
    evidence = task.evidence[-1]
    assert evidence["state"] == "done"
    assert evidence["rows_deleted"] == {
        "identifies": 1,
        "order_completed": 1,
        "pages": 1,
        "tracks": 1,
        "users": 1,
    }
    assert task.receipt.startswith("5 rows deleted from the warehouse")
    # the person's hashes join deleted_users at once, whatever the next publication does
    types = {t for (t,) in duck.read("SELECT identifier_type FROM martech_events.deleted_users")}
    assert types == {"user_id", "anonymous_id", "email"}


def test_rows_named_only_by_an_email_in_a_trait_column_are_deleted(admin, loaded, duck):
    # given: a row the warehouse holds by Ana's email only (written there by another tool)
    duck.write(
        "INSERT INTO martech_events.pages (id, context_traits_email) "
        "VALUES ('p-other', 'ana@acme.example')"
    )
    request = services.request_approve(
        actor=admin, request=verified(admin, "email:ana@acme.example")
    )
    task = request.tasks.get(destination=loaded)

    propagate(task.pk)

    task.refresh_from_db()
    assert task.status == TaskStatus.DONE, task.last_error
    assert duck.read(
        "SELECT count(*) FROM martech_events.pages WHERE context_traits_email = 'ana@acme.example'"
    ) == [(0,)]
    assert duck.read("SELECT email FROM martech_events.users") == [("bo@acme.example",)]
    assert task.evidence[-1]["rows_deleted"]["pages"] == 2  # Ana's page and the other tool's


def test_a_failing_warehouse_is_tried_again_later_and_then_erases(admin, loaded, duck):
    # given: the warehouse file is not a DuckDB database (for now)
    request = services.request_approve(actor=admin, request=verified(admin, "user_id:cus_1"))
    task = request.tasks.get(destination=loaded)
    kept = duck.path.read_bytes()
    duck.path.write_bytes(b"not a database at all" * 100)

    # when
    propagate(task.pk)

    # then: pending again, a later attempt due, the failure in the evidence
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING
    assert task.attempts == 1
    assert task.next_attempt_at > timezone.now()
    assert task.evidence[-1]["state"] == "retry"
    assert task.last_error.startswith("The warehouse did not erase the person")

    # and once the warehouse is back, the next attempt erases
    duck.path.write_bytes(kept)
    task.next_attempt_at = timezone.now() - dt.timedelta(seconds=1)
    task.save(update_fields=["next_attempt_at"])
    propagate(task.pk)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE, task.last_error
    assert task.evidence[-1]["rows_deleted"]["users"] == 1


def test_a_disabled_warehouse_destination_that_loaded_events_is_still_asked(admin, loaded, duck):
    destinations.destination_update(actor=admin, destination=loaded, is_enabled=False)

    request = services.request_approve(actor=admin, request=verified(admin, "user_id:cus_1"))

    assert request.tasks.filter(destination=loaded, kind=TaskKind.API).exists()
    assert request.not_asked == []
