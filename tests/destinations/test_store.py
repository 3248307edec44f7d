"""The deliveries table's store: every column of its row types goes in and comes out by
name, on either database, and no statement reads a row by position."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.destinations import store
from apps.destinations.models import Delivery, Destination


@pytest.fixture
def destination(tool):
    return Destination.objects.create(
        name="Store hooks", adapter="webhook", tool=tool, config={"url": "https://h.example/"}
    )


def _new(destination, event_id, **fields):
    at = timezone.now().replace(microsecond=123456)
    values = {
        "destination_id": destination.pk,
        "event_id": event_id,
        "message_id": f"m-{event_id}",
        "event_name": "Order Completed",
        "subject": f"anonymous_id:a{event_id}",
        "status": "pending",
        "reason": "",
        "consent": {"analytics": True},
        "payload": {"kind": "event", "identifiers": {"anonymous_id": f"a{event_id}"}},
        "next_attempt_at": at - dt.timedelta(seconds=1),
        "created_at": at - dt.timedelta(seconds=2),
        "attempts": 3,
        "error": "an earlier error",
    }
    return store.NewDelivery(**{**values, **fields})


@pytest.mark.django_db
@pytest.mark.parametrize("fresh", [True, False])
def test_a_new_delivery_is_stored_with_every_column_under_its_own_name(destination, fresh):
    # given: a delivery whose every column holds a value of its own
    row = _new(destination, 7)

    # when
    store.insert([row], fresh=fresh)

    # then: each column holds the value of the field of the same name
    stored = Delivery.objects.get(destination=destination, event_id=7)
    for name in store.names(store.NewDelivery):
        assert getattr(stored, name) == getattr(row, name), name


@pytest.mark.django_db
def test_a_filtered_delivery_keeps_null_json_as_null_and_a_second_insert_keeps_the_first(
    destination,
):
    # given: a filtered delivery (no payload, no consent snapshot)
    store.insert(
        [
            _new(
                destination,
                8,
                status="filtered",
                reason="consent",
                payload=None,
                consent=None,
                next_attempt_at=None,
            )
        ]
    )

    # when: another run stores one for the same event and destination
    store.insert([_new(destination, 8, message_id="second")])

    # then: the first stays as it was, its JSON columns NULL, not JSON null
    assert Delivery.objects.filter(destination=destination, event_id=8).count() == 1
    assert Delivery.objects.filter(
        destination=destination, payload__isnull=True, consent__isnull=True, message_id="m-8"
    ).exists()


@pytest.mark.django_db
def test_known_and_due_read_each_column_by_name(destination):
    # given
    now = timezone.now()
    store.insert(
        [_new(destination, 1), _new(destination, 2, next_attempt_at=now + dt.timedelta(hours=1))]
    )
    first = Delivery.objects.get(destination=destination, event_id=1)

    # when
    known = store.known([destination.pk], [1, 2, 3])
    due = store.due(destination.pk, 10, now)

    # then
    assert known[(destination.pk, 1)] == (first.pk, "pending")
    assert set(known) == {(destination.pk, 1), (destination.pk, 2)}
    assert due == [
        store.Due(
            id=first.pk,
            subject=first.subject,
            event_id=1,
            payload=first.payload,
            consent=first.consent,
            attempts=3,
            first_attempt_at=None,
        )
    ]


@pytest.mark.django_db
def test_outcomes_are_recorded_by_column_name_and_only_on_unfinished_deliveries(destination):
    # given: one delivery to retry, one delivered, one filtered meanwhile
    store.insert([_new(destination, n) for n in (1, 2, 3)])
    retried, delivered, filtered = Delivery.objects.filter(destination=destination).order_by("id")
    Delivery.objects.filter(pk=filtered.pk).update(status="filtered", reason="consent")
    at = timezone.now().replace(microsecond=654321)
    later = store.Outcome(
        id=retried.pk,
        status="retrying",
        attempts=4,
        first_attempt_at=at - dt.timedelta(minutes=5),
        last_attempt_at=at,
        next_attempt_at=at + dt.timedelta(seconds=30),
        delivered_at=None,
        response_code=503,
        error="try later",
    )
    done = store.Outcome(delivered.pk, "delivered", 4, at, at, None, at, 202, "")
    late = store.Outcome(filtered.pk, "delivered", 4, at, at, None, at, 200, "")

    # when
    store.record([later, done, late])

    # then
    for outcome in (later, done):
        stored = Delivery.objects.get(pk=outcome.id)
        for name in store.names(store.Outcome):
            assert getattr(stored, name) == getattr(outcome, name), name
    untouched = Delivery.objects.get(pk=filtered.pk)
    assert (untouched.status, untouched.attempts, untouched.delivered_at) == ("filtered", 3, None)


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_no_statement_reads_a_row_by_position():
    # given: every statement the store writes rows with
    statements = [store._insert_sql(), store._record_sql(), store._due_sql()]

    # then: rows are taken apart by column name, every field of its row type listed
    for statement in statements:
        assert "->" not in statement
    for row_type in (store.NewDelivery, store.Outcome):
        columns = store.recordset(row_type)
        for name in store.names(row_type):
            assert f" {name} " in columns or f"({name} " in columns, name
