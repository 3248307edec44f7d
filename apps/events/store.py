"""The events table's store: every statement that writes ``events_event`` in bulk, or reads
it for processing, on both databases.

Rows travel as named-column row types: each field of ``NewEvent``, ``WaitingEvent`` and
``Outcome`` is a column of ``Event`` (or, for a read, an expression named like the field),
and every statement is generated from those fields. On PostgreSQL a batch travels as one
JSON document: one serialisation in C on this side, one parse on the other, whatever the
number of rows. Outcomes travel as objects, taken apart by name with
``jsonb_to_recordset(…) AS r(column type, …)``, each column's type read from the model.
New events, on the accept path, travel as arrays of their values in the row type's field
order, and the statement reading them is generated from the same fields (``positional``):
the server takes apart a tenth less text and no keys, for a tenth less time per accepted
event. On SQLite the same rows go through the ORM. Adding a column is a model field and a
field of the row type that carries it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from functools import cache

import orjson
from django.db import connection

from martech.common.pgcopy import insert_then_skip_conflicts, raw_cursor

from .choices import EventStatus
from .models import Event, Source

# The statuses of an event that waits for processing (again).
WAITING = (EventStatus.RECEIVED, EventStatus.FAILED)


# The row types written in bulk are plain dataclasses: one is built and serialised by orjson
# in about half the time of a frozen, slotted one (freezing slows building, slots slow
# orjson), on every row of every batch.
@dataclasses.dataclass
class NewEvent:
    """An accepted message as it is stored: ``insert`` writes these columns, and the ones
    every new event starts with (``_NEW``)."""

    source_id: int
    message_id: str
    type: str
    name: str
    anonymous_id: str
    user_id: str
    payload: dict
    timestamp: dt.datetime
    received_at: dt.datetime
    gpc: bool


@dataclasses.dataclass(eq=False, slots=True)
class WaitingEvent:
    """A waiting event as a batch takes it. Not a model instance: a batch of them costs no
    model machinery, and payloads are parsed by orjson."""

    id: int
    source_id: int
    message_id: str
    type: str
    name: str
    anonymous_id: str
    user_id: str
    # None when the stored message cannot be read (that event alone then fails).
    payload: dict | None
    timestamp: dt.datetime
    received_at: dt.datetime
    gpc: bool
    attempts: int
    processed_before: bool  # False: never processed, so never routed either
    retimed: bool  # its stored timestamp was beyond a date-time: received_at instead


@dataclasses.dataclass
class Outcome:
    """What processing writes back on an event. ``timestamp`` is written only when set (an
    event read with ``retimed``)."""

    id: int
    status: str
    violations: list
    consent: dict | None
    profile_id: int | None
    attribution: dict | None
    attempts: int
    error: str
    processed_at: dt.datetime | None
    timestamp: dt.datetime | None = None


# The columns every new event starts with, beside those of ``NewEvent``.
_NEW = {"status": f"'{EventStatus.RECEIVED}'", "violations": "'[]'", "attempts": "0", "error": "''"}

# A stored timestamp outside these bounds cannot be read as a date-time (a row stored before
# the collection API dated such events by their arrival): it is read, and written back, as
# the event's received_at, so that one row never stops the batch that takes it.
_READABLE = (
    "\"timestamp\" >= '0001-01-02 00:00:00+00'::timestamptz "
    "AND \"timestamp\" < '9999-12-31 00:00:00+00'::timestamptz"
)
# The fields of ``WaitingEvent`` that are not read as their column is.
_READ_AS = {
    "payload": "payload::text",  # parsed here by orjson, one event at a time
    "timestamp": f'CASE WHEN {_READABLE} THEN "timestamp" ELSE received_at END',
    "processed_before": "processed_at IS NOT NULL",
    "retimed": f"NOT ({_READABLE})",
}
# The columns of ``Outcome`` that are not written as the row's value.
_WRITE_AS = {"timestamp": 'coalesce(r."timestamp", e."timestamp")'}


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _names(row_type) -> list[str]:
    return [f.name for f in dataclasses.fields(row_type)]


def recordset(row_type) -> str:
    """``jsonb_to_recordset(%s::jsonb) AS r(column type, …)`` for ``row_type``'s fields, each
    typed as its column of ``Event`` is: a JSON array of such rows read by name."""
    columns = ", ".join(
        f"{_q(name)} {Event._meta.get_field(name).db_type(connection)}" for name in _names(row_type)
    )
    return f"jsonb_to_recordset(%s::jsonb) AS r({columns})"


def positional(row_type) -> list[str]:
    """The value of each of ``row_type``'s fields in a row sent as a JSON array of them, in
    field order (``r`` an element of ``jsonb_array_elements``), typed as its column of
    ``Event``: JSON as it is, text as text (so that an assignment to a shorter column is
    refused rather than cut), anything else cast from its text."""
    values = []
    for position, name in enumerate(_names(row_type)):
        field = Event._meta.get_field(name)
        kind = field.db_type(connection)
        if field.get_internal_type() == "JSONField":
            values.append(f"r->{position}")
        elif field.get_internal_type() in ("CharField", "TextField"):
            values.append(f"r->>{position}")
        else:
            values.append(f"(r->>{position})::{kind}")
    return values


@cache
def insert_statement() -> str:
    """Store ``NewEvent`` rows, the batch as one JSON array of rows, each an array of its
    values in field order (``positional``)."""
    columns = ", ".join(_q(n) for n in [*_names(NewEvent), *_NEW])
    values = ", ".join([*positional(NewEvent), *_NEW.values()])
    table = Event._meta.db_table
    return (
        f"INSERT INTO {table} ({columns}) SELECT {values} "  # noqa: S608
        "FROM jsonb_array_elements(%s::jsonb) AS r"
    )


@cache
def _values_of_new():
    """A row's values in ``NewEvent``'s field order, as one tuple."""
    return operator.attrgetter(*_names(NewEvent))


_SKIP_SENT = " ON CONFLICT (source_id, message_id) DO NOTHING"


def insert(rows: list[NewEvent]) -> None:
    """Store ``rows``; a (source, messageId) already stored is skipped. One statement on
    PostgreSQL; a repeated messageId is rare (an SDK retrying a batch whose answer it lost),
    so the conflict check is made only when the batch meets one."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        names = _names(NewEvent)
        events = [Event(**{n: getattr(row, n) for n in names}) for row in rows]
        Event.objects.bulk_create(events, ignore_conflicts=True, batch_size=500)
        return
    insert_then_skip_conflicts(
        insert_statement(),
        [orjson.dumps(list(map(_values_of_new(), rows))).decode()],
        on_conflict=_SKIP_SENT,
        constraint="events_message_once",
    )


@cache
def take_statement() -> str:
    """Lock up to a limit (the second parameter) of waiting events with fewer attempts than
    the first, oldest first, skipping those another batch holds: ``WaitingEvent``'s fields."""
    fields = ", ".join(f"{_READ_AS.get(n, _q(n))} AS {_q(n)}" for n in _names(WaitingEvent))
    statuses = ", ".join(f"'{s}'" for s in WAITING)
    return (
        f"SELECT {fields} FROM {Event._meta.db_table} "  # noqa: S608
        f"WHERE status IN ({statuses}) AND attempts < %s ORDER BY id LIMIT %s "
        "FOR UPDATE SKIP LOCKED"
    )


@cache
def read_after_statement() -> str:
    """``WaitingEvent``'s fields of the events after an id (the first parameter), in id
    order, up to a limit (the second), whatever their state, taking no lock."""
    fields = ", ".join(f"{_READ_AS.get(n, _q(n))} AS {_q(n)}" for n in _names(WaitingEvent))
    return (
        f"SELECT {fields} FROM {Event._meta.db_table} "  # noqa: S608
        "WHERE id > %s ORDER BY id LIMIT %s"
    )


def _parsed(payload: str):
    """The stored message; None when it cannot be read."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None


def _read(statement: str, params: list, row_type):
    """The statement's rows as ``row_type``, each field from the result column of its name."""
    with raw_cursor() as cursor:
        rows = cursor.execute(statement, params).fetchall()
        names = [column.name for column in cursor.description]
    if names != _names(row_type)[: len(names)]:
        raise ValueError(f"{row_type.__name__} does not begin with the columns {names}")
    # The columns are the row type's first fields, in order: each row is built from its
    # values as they come (three times as fast as by keyword, for every event of a batch).
    out = [row_type(*values) for values in rows]
    for row in out:
        row.payload = _parsed(row.payload)
    return out


def take(limit: int, *, max_attempts: int, row_type=WaitingEvent) -> list:
    """Lock up to ``limit`` waiting events with fewer than ``max_attempts`` attempts (others'
    locked ones are skipped), oldest first, as ``row_type`` (``WaitingEvent`` or a subclass
    whose added fields have defaults). In the caller's transaction."""
    if connection.vendor == "postgresql":
        return _read(take_statement(), [max_attempts, limit], row_type)
    waiting = (
        Event.objects.select_for_update(skip_locked=True)
        .filter(status__in=WAITING, attempts__lt=max_attempts)
        .order_by("id")[:limit]
    )
    columns = [n for n in _names(WaitingEvent) if n not in ("processed_before", "retimed")]
    return [
        row_type(
            **{n: getattr(e, n) for n in columns},
            processed_before=e.processed_at is not None,
            retimed=False,
        )
        for e in waiting
    ]


def read_after(after_id: int, limit: int, *, row_type=WaitingEvent) -> list:
    """Up to ``limit`` events after ``after_id`` in id order, read as ``take`` reads them but
    neither locked nor chosen by state (PostgreSQL): for measuring what a batch costs."""
    return _read(read_after_statement(), [after_id, limit], row_type)


@cache
def write_back_statement() -> str:
    """Write ``Outcome`` rows on their events, the batch as one JSON document."""
    sets = ", ".join(
        f"{_q(n)} = {_WRITE_AS.get(n, f'r.{_q(n)}')}" for n in _names(Outcome) if n != "id"
    )
    return (
        f"UPDATE {Event._meta.db_table} e SET {sets} "  # noqa: S608
        f"FROM {recordset(Outcome)} WHERE e.id = r.id"
    )


def write_back(outcomes: list[Outcome]) -> None:
    """Write each event's outcome: one statement for the batch on PostgreSQL."""
    if not outcomes:
        return
    if connection.vendor == "postgresql":
        with raw_cursor() as cursor:
            cursor.execute(write_back_statement(), [orjson.dumps(outcomes).decode()])
        return
    fields = [n for n in _names(Outcome) if n not in ("id", "timestamp")]
    Event.objects.bulk_update(
        [Event(pk=o.id, **{f: getattr(o, f) for f in fields}) for o in outcomes], fields
    )
    for o in outcomes:
        if o.timestamp is not None:
            Event.objects.filter(pk=o.id).update(timestamp=o.timestamp)


def stored_messages(event_ids: list[int]) -> dict[int, dict]:
    """The stored messages of these events, by id. Events erased, or emptied by the
    retention, are left out."""
    if not event_ids:
        return {}
    if connection.vendor == "postgresql":  # the payloads parsed by orjson
        with raw_cursor() as cursor:
            rows = cursor.execute(
                f"SELECT id, payload::text FROM {Event._meta.db_table} "  # noqa: S608
                "WHERE id = ANY(%s) AND payload <> '{}'::jsonb",
                [list(event_ids)],
            ).fetchall()
        return {pk: orjson.loads(payload) for pk, payload in rows}
    return dict(
        Event.objects.filter(pk__in=event_ids).exclude(payload={}).values_list("pk", "payload")
    )


# -- what the activation schema publishes (SQLite) -------------------------------------------

# Events a destination or a model may receive: the tracking plan let them through.
ACTIVE = (EventStatus.PROCESSED, EventStatus.FLAGGED)
# The published columns read from the stored message and its attribution.
_PUBLISHED_PATHS = {
    "properties": ("payload", "properties"),
    "traits": ("payload", "traits"),
    "page_url": ("payload", "context.page.url"),
    "page_path": ("payload", "context.page.path"),
    "page_title": ("payload", "context.page.title"),
    "referrer": ("payload", "context.page.referrer"),
    "channel": ("attribution", "channel"),
    "utm_source": ("attribution", "source"),
    "utm_medium": ("attribution", "medium"),
    "utm_campaign": ("attribution", "campaign"),
    "utm_content": ("attribution", "content"),
    "utm_term": ("attribution", "term"),
}


def _active() -> str:
    return ", ".join(f"'{s}'" for s in ACTIVE)


def activation_events_sqlite(schema: str = "main") -> str:
    """A SELECT, for a SQLite view, of every event the tracking plan let through, as the
    activation schema publishes it: ``event_id``, ``message_id``, ``source`` (its name),
    ``type``, ``name``, ``anonymous_id``, ``user_id``, ``profile_id`` (as processing recorded
    it: merges since are not followed here), ``timestamp``, ``received_at``, the message's
    ``properties``, ``traits``, ``page_url``, ``page_path``, ``page_title``, ``referrer``, the
    arrival's ``channel`` and ``utm_*``, and ``consent``. ``schema`` is the database the
    console's tables are attached as."""
    extracted = ",\n       ".join(
        f"json_extract(e.{column}, '$.{path}') AS {name}"
        for name, (column, path) in _PUBLISHED_PATHS.items()
    )
    return f"""
SELECT e.id AS event_id, e.message_id AS message_id, s.name AS source, e.type AS type,
       e.name AS name, e.anonymous_id AS anonymous_id, e.user_id AS user_id,
       e.profile_id AS profile_id, e."timestamp" AS "timestamp", e.received_at AS received_at,
       {extracted},
       e.consent AS consent
FROM {schema}.{Event._meta.db_table} e
JOIN {schema}.{Source._meta.db_table} s ON s.id = e.source_id
WHERE e.status IN ({_active()})"""  # noqa: S608 - constants, no input


# -- settled events, in id order (loads into a warehouse) -----------------------------------


@dataclasses.dataclass(slots=True)
class Settled:
    """An event whose processing is over (processed, flagged, quarantined, or failed for
    good), as a load into a warehouse takes it: ``payload`` None when it cannot be read."""

    id: int
    message_id: str
    status: str
    payload: dict | None
    consent: dict | None
    received_at: dt.datetime
    source_environment: str
    user_id: str
    anonymous_id: str
    # Not read: the subjects its message names, for the suppression list (the selector's).
    subjects: set[str] = dataclasses.field(default_factory=set)


# The fields of ``Settled`` that are not read as the event's column of their name.
_SETTLED_AS = {
    "payload": "e.payload::text",
    "consent": "e.consent::text",
    "source_environment": "s.environment",
}


@cache
def settled_statement() -> str:
    """``Settled``'s fields of the events after an id (the first parameter), in id order, up
    to a limit (the third), stopping before the first event still waiting for processing
    with fewer attempts than the second parameter: what comes after it is not settled in
    id order yet."""
    statuses = ", ".join(f"'{s}'" for s in WAITING)
    table, sources = Event._meta.db_table, Source._meta.db_table
    read = [n for n in _names(Settled) if n != "subjects"]  # worked out by the selector
    fields = ", ".join(f"{_SETTLED_AS.get(n, f'e.{_q(n)}')} AS {_q(n)}" for n in read)
    return (
        f"SELECT {fields} FROM {table} e JOIN {sources} s ON s.id = e.source_id "  # noqa: S608
        "WHERE e.id > %s AND e.id < coalesce(("
        f"SELECT min(w.id) FROM {table} w WHERE w.status IN ({statuses}) "
        "AND w.attempts < %s), 9223372036854775807) "
        "ORDER BY e.id LIMIT %s"
    )


def settled_after(after_id: int, limit: int, *, max_attempts: int) -> list[Settled]:
    """Up to ``limit`` settled events after ``after_id`` in id order, stopping before the
    first one still waiting (``settled_statement``)."""
    if connection.vendor == "postgresql":
        out = _read(settled_statement(), [after_id, max_attempts, limit], Settled)
        for event in out:
            event.consent = _parsed(event.consent) if event.consent else None
        return out
    waiting = (
        Event.objects.filter(status__in=WAITING, attempts__lt=max_attempts)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    events = Event.objects.filter(id__gt=after_id).select_related("source").order_by("id")
    if waiting is not None:
        events = events.filter(id__lt=waiting)
    return [
        Settled(
            e.id,
            e.message_id,
            e.status,
            e.payload,
            e.consent,
            e.received_at,
            e.source.environment,
            e.user_id,
            e.anonymous_id,
        )
        for e in events[:limit]
    ]
