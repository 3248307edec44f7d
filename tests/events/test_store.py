"""The events table's store maps every column by name, on both databases: a row inserted is
taken back field for field, an outcome written back lands in the columns named like its
fields, and no generated statement reads a row by position."""

import dataclasses
import datetime as dt
import json
import re
import sqlite3

import pytest
from django.db import connection, transaction

from apps.events import selectors, services, store
from apps.events.models import Event

# ``r->>0``, ``r->1``, ``x ->> 12``: a JSON element read by its place in an array.
POSITIONAL = re.compile(r"->>?\s*\d")


@pytest.fixture
def web(admin):
    source, _key = services.source_create(actor=admin, name="Web", rate_limit=10_000)
    return source


def _new(source_id: int) -> store.NewEvent:
    # Every field a value no other field holds, so that a value landing in the wrong column
    # cannot pass unnoticed.
    return store.NewEvent(
        source_id=source_id,
        message_id="m-1",
        type="identify",
        name="Signed In",
        anonymous_id="anon-1",
        user_id="user-1",
        payload={"type": "identify", "userId": "user-1", "traits": {"plan": "pro"}},
        timestamp=dt.datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=dt.UTC),
        received_at=dt.datetime(2026, 1, 2, 3, 4, 9, 100_000, tzinfo=dt.UTC),
        gpc=True,
    )


@pytest.mark.django_db(transaction=True)
def test_an_inserted_row_is_taken_back_field_for_field(web):
    # given
    row = _new(web.pk)

    # when
    store.insert([row])
    with transaction.atomic():
        (taken,) = store.take(10, max_attempts=5)

    # then
    for name in (f.name for f in dataclasses.fields(store.NewEvent)):
        assert getattr(taken, name) == getattr(row, name), name
    assert taken.id == Event.objects.get().pk
    assert taken.attempts == 0
    assert taken.processed_before is False
    assert taken.retimed is False
    stored = Event.objects.get()
    assert (stored.status, stored.violations, stored.error) == ("received", [], "")


@pytest.mark.django_db(transaction=True)
def test_an_outcome_is_written_to_the_columns_named_like_its_fields(web):
    # given
    store.insert([_new(web.pk)])
    event = Event.objects.get()
    outcome = store.Outcome(
        id=event.pk,
        status="flagged",
        violations=[{"kind": "unplanned", "path": "plan", "message": "not in the plan"}],
        consent={"analytics": True, "sale_share": False},
        profile_id=4242,
        attribution={"channel": "email", "source": "news"},
        attempts=3,
        error="a note",
        processed_at=dt.datetime(2026, 1, 2, 3, 5, 0, 250_000, tzinfo=dt.UTC),
        timestamp=dt.datetime(2026, 1, 2, 3, 4, 9, 100_000, tzinfo=dt.UTC),
    )

    # when
    with transaction.atomic():
        store.write_back([outcome])

    # then
    event.refresh_from_db()
    for name in (f.name for f in dataclasses.fields(store.Outcome)):
        assert getattr(event, name) == getattr(outcome, name), name


@pytest.mark.django_db(transaction=True)
def test_an_outcome_without_a_timestamp_keeps_the_stored_one_and_empty_json_is_null(web):
    # given
    store.insert([_new(web.pk)])
    event = Event.objects.get()
    before = event.timestamp

    # when
    store.write_back(
        [
            store.Outcome(
                id=event.pk,
                status="failed",
                violations=[],
                consent=None,
                profile_id=None,
                attribution=None,
                attempts=1,
                error="ValueError: no",
                processed_at=before,
            )
        ]
    )

    # then
    event.refresh_from_db()
    assert event.timestamp == before
    assert (event.consent, event.attribution, event.profile_id) == (None, None, None)
    assert Event.objects.filter(consent__isnull=True, attribution__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_message_id_stored_before_is_skipped_not_refused(web):
    store.insert([_new(web.pk)])

    store.insert([_new(web.pk), dataclasses.replace(_new(web.pk), message_id="m-2")])

    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["m-1", "m-2"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL statements")
def test_statements_read_rows_by_name_except_new_events_whose_positions_follow_their_fields(db):
    statements = {
        store.WaitingEvent: store.take_statement(),
        store.Outcome: store.write_back_statement(),
    }
    for row_type, statement in statements.items():
        assert not POSITIONAL.search(statement), statement
        assert "jsonb_array_elements" not in statement
        for field in dataclasses.fields(row_type):
            assert f'"{field.name}"' in statement, (row_type.__name__, field.name)
    assert not POSITIONAL.search(store.read_after_statement())

    # New events travel as arrays: the n-th column written is the n-th field, read from the
    # n-th place of the row, whatever order the fields are declared in.
    insert = store.insert_statement()
    columns = insert[insert.index("(") + 1 : insert.index(")")].split(", ")
    fields = [f.name for f in dataclasses.fields(store.NewEvent)]
    assert columns[: len(fields)] == [f'"{name}"' for name in fields]
    values = store.positional(store.NewEvent)
    assert [int(re.search(r"->>?(\d+)", v).group(1)) for v in values] == list(range(len(fields)))
    assert insert.count("->") == len(fields)


def _rows(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({sql}) published ORDER BY event_id")  # noqa: S608
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite views' text")
@pytest.mark.django_db(transaction=True)
def test_activation_publishes_only_events_the_plan_let_through_with_page_and_campaign(web):
    # given: an identify processed into profile 7, arriving from a campaign; a track waiting
    store.insert([_new(web.pk), dataclasses.replace(_new(web.pk), message_id="m-2", type="track")])
    first = Event.objects.get(message_id="m-1")
    store.write_back(
        [
            store.Outcome(
                id=first.pk,
                status="processed",
                violations=[],
                consent={"analytics": True},
                profile_id=7,
                attribution={"channel": "email", "source": "news", "campaign": "spring"},
                attempts=1,
                error="",
                processed_at=first.received_at,
            )
        ]
    )

    # when
    events = _rows(selectors.activation_events_sql())

    # then
    (event,) = events
    assert (event["event_id"], event["message_id"], event["source"]) == (first.pk, "m-1", "Web")
    assert (event["profile_id"], event["type"], event["user_id"]) == (7, "identify", "user-1")
    assert json.loads(event["traits"]) == {"plan": "pro"}
    assert (event["channel"], event["utm_source"], event["utm_campaign"]) == (
        "email",
        "news",
        "spring",
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite views' text")
@pytest.mark.django_db(transaction=True)
def test_a_view_built_on_the_published_events_passes_the_activation_guard(web):
    # given: a TEMP view over the published events, merges followed, as activation builds it,
    # on a connection that may read only through that view
    from apps.syncs.warehouses.activation import _authorizer_for

    store.insert([_new(web.pk), dataclasses.replace(_new(web.pk), message_id="m-2")])
    Event.objects.filter(message_id="m-1").update(status="processed", profile_id=7)
    raw = connection.connection
    published = selectors.activation_events_sql()
    view = (
        "CREATE TEMP VIEW published_events AS SELECT e.event_id, e.source, "  # noqa: S608
        "COALESCE(pr.merged_into_id, e.profile_id) AS profile_id "
        f"FROM ({published}) e LEFT JOIN main.identity_profile pr ON pr.id = e.profile_id"
    )
    raw.execute(view)
    raw.set_authorizer(_authorizer_for(frozenset({"published_events"})))

    # when
    try:
        through_view = raw.execute("SELECT count(*) FROM temp.published_events").fetchone()
        with pytest.raises(sqlite3.DatabaseError):
            raw.execute("SELECT message_id FROM main.events_event").fetchall()
    finally:
        raw.set_authorizer(None)
        raw.execute("DROP VIEW temp.published_events")

    # then: the processed event is read through the view, the one still waiting is not
    assert through_view == (1,)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL statements")
@pytest.mark.django_db(transaction=True)
def test_a_row_type_whose_fields_are_not_the_columns_read_is_refused_not_filled_by_place(web):
    # given: a row type with WaitingEvent's fields in another order
    store.insert([_new(web.pk)])
    names = [f.name for f in dataclasses.fields(store.WaitingEvent)]
    reordered = dataclasses.make_dataclass("Reordered", [*names[1:], names[0]])

    # when / then
    with pytest.raises(ValueError, match="does not begin with the columns"):
        store.read_after(0, 10, row_type=reordered)
    assert store.read_after(0, 10)[0].message_id == "m-1"
