"""The deliveries table (``destinations_delivery``): the statements routing and delivery run
on it in bulk, for both backends, behind named-column row types.

Each row type's field names are the table's column names. On PostgreSQL a batch goes as one
JSON document of objects, taken apart by name (``json_to_recordset(…) AS r(column type, …)``,
the list generated from the row type's fields and the types from the model), so adding a
column is one field here and one on the model. On SQLite (the embedded mode) the ORM does
the same work. Nothing outside this module branches on the database for this table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import astuple, dataclass, fields
from functools import cache

import orjson
from django.db import connection, transaction
from django.db.models import Min, Q

from martech.common.pgcopy import execute_arrays, insert_then_skip_conflicts, raw_cursor

from .choices import UNFINISHED
from .models import Delivery

TABLE = Delivery._meta.db_table


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery routing stores: pending (with what it sends) or filtered (with why)."""

    destination_id: int
    event_id: int | None
    message_id: str
    event_name: str
    subject: str
    status: str
    reason: str
    consent: dict | None
    payload: dict | None
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    attempts: int = 0
    error: str = ""


@dataclass(frozen=True, slots=True)
class Due:
    """A due delivery as a sender reads it: what it sends, and its attempts so far."""

    id: int
    subject: str
    event_id: int | None
    payload: dict | None
    consent: dict | None
    attempts: int
    first_attempt_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt of a delivery ended in."""

    id: int
    status: str
    attempts: int
    first_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    response_code: int | None
    error: str


def names(row_type) -> tuple[str, ...]:
    """The columns of ``row_type``, in its fields' order."""
    return tuple(f.name for f in fields(row_type))


@cache
def _column_types() -> dict[str, str]:
    """Column name → its PostgreSQL type, from the model."""
    return {f.column: f.db_type(connection) for f in Delivery._meta.concrete_fields}


def recordset(row_type, alias: str = "r") -> str:
    """``json_to_recordset(%s::json) AS r(column type, …)`` for the fields of ``row_type``:
    the rows of one JSON document of objects, each value read by its column's name."""
    types = _column_types()
    columns = ", ".join(f"{name} {types[name]}" for name in names(row_type))
    return f"json_to_recordset(%s::json) AS {alias}({columns})"


def _document(rows) -> str:
    return orjson.dumps(rows).decode()


# -- routing ------------------------------------------------------------------------------


def known(destination_ids: list[int], event_ids: list[int]) -> dict[tuple[int, int], tuple]:
    """The deliveries these events already have to these destinations:
    (destination id, event id) → (delivery id, status)."""
    if not event_ids or not destination_ids:
        return {}
    if connection.vendor == "postgresql":  # whole columns bound in binary
        rows = execute_arrays(
            f"SELECT id, destination_id, event_id, status FROM {TABLE} "  # noqa: S608
            "WHERE event_id = ANY(%b::bigint[]) AND destination_id = ANY(%b::bigint[])",
            [event_ids, destination_ids],
        )
    else:
        rows = Delivery.objects.filter(
            destination_id__in=destination_ids, event_id__in=event_ids
        ).values_list("pk", "destination_id", "event_id", "status")
    return {(d, e): (pk, status) for pk, d, e, status in rows}


@cache
def _insert_sql() -> str:
    columns = ", ".join(names(NewDelivery))
    return (
        f"INSERT INTO {TABLE} ({columns}) "  # noqa: S608
        f"SELECT {columns} FROM {recordset(NewDelivery)}"
    )


def insert(rows: list[NewDelivery], *, fresh: bool = False) -> None:
    """Store new deliveries; one another run wrote meanwhile (same event and destination)
    stays as it is. ``fresh``: the rows are of events routed for the first time (under the
    batch's lock), which can have no delivery yet: the conflict check is made only should
    one exist after all."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Delivery.objects.bulk_create(
            [Delivery(**dict(zip(names(NewDelivery), astuple(r), strict=True))) for r in rows],
            ignore_conflicts=True,
            batch_size=1000,
        )
        return
    on_conflict = " ON CONFLICT DO NOTHING"
    if fresh:
        insert_then_skip_conflicts(_insert_sql(), [_document(rows)], on_conflict=on_conflict)
        return
    with raw_cursor() as cursor:
        cursor.execute(_insert_sql() + on_conflict, [_document(rows)])


# -- delivery -----------------------------------------------------------------------------


@cache
def _due_sql() -> str:
    # The JSON columns come as text, for orjson to read (no model converters). A delivery
    # whose subject has an earlier one unfinished and not due (waiting for its next attempt)
    # waits too: found through destinations_unfinished (destination, subject, id).
    columns = ", ".join(
        f"d.{name}::text" if name in ("payload", "consent") else f"d.{name}" for name in names(Due)
    )
    return (
        f"SELECT {columns} FROM {TABLE} d "  # noqa: S608
        "WHERE d.destination_id = %(destination)s AND d.status IN ('pending', 'retrying') "
        "AND d.next_attempt_at <= %(now)s AND d.id <> ALL(%(skip)s::bigint[]) "
        f"AND (d.subject = '' OR NOT EXISTS (SELECT FROM {TABLE} w "
        "WHERE w.destination_id = d.destination_id AND w.subject = d.subject "
        "AND w.status IN ('pending', 'retrying') AND w.id < d.id "
        "AND (w.next_attempt_at > %(now)s OR w.next_attempt_at IS NULL))) "
        "ORDER BY d.id LIMIT %(limit)s"
    )


def _loaded(text: str | None):
    return None if text is None else orjson.loads(text)


_DUE = names(Due)


def due(
    destination_id: int, limit: int, now: dt.datetime, *, skip: Collection[int] = ()
) -> list[Due]:
    """Up to ``limit`` deliveries of the destination due by ``now``, in id order, keeping
    each subject's order: one waits while an earlier one of its subject is unfinished and
    not due. ``skip``: deliveries sent whose outcome is still being written (see
    ``Writer``), left out as if written."""
    if connection.vendor == "postgresql":
        params = {"destination": destination_id, "now": now, "limit": limit, "skip": list(skip)}
        with raw_cursor() as cursor:
            rows = cursor.execute(_due_sql(), params).fetchall()
        return [
            Due(pk, subject, event, _loaded(payload), _loaded(consent), attempts, first)
            for pk, subject, event, payload, consent, attempts, first in rows
        ]
    unfinished = Delivery.objects.filter(destination_id=destination_id, status__in=UNFINISHED)
    found = unfinished.filter(next_attempt_at__lte=now).exclude(id__in=list(skip)).order_by("id")
    waiting = dict(
        unfinished.filter(Q(next_attempt_at__gt=now) | Q(next_attempt_at__isnull=True))
        .exclude(subject="")
        .order_by()
        .values("subject")
        .annotate(first=Min("id"))
        .values_list("subject", "first")
    )
    rows = []
    for values in found.values_list(*_DUE).iterator():
        row = Due(*values)
        if not row.subject or row.id < waiting.get(row.subject, row.id + 1):
            rows.append(row)
            if len(rows) == limit:
                break
    return rows


# Delivered outcomes, most of a wave, share their values but the id: one short statement for
# each answer time and status code. (Joined to the ids, not ``id = ANY(…)``: with the status
# test the planner would otherwise walk the whole partial index of unfinished deliveries.)
_DELIVERED = (
    f"UPDATE {TABLE} d SET status = 'delivered', attempts = d.attempts + 1, "  # noqa: S608
    "first_attempt_at = coalesce(d.first_attempt_at, %(at)s), last_attempt_at = %(at)s, "
    "next_attempt_at = NULL, delivered_at = %(at)s, response_code = %(code)s, error = '' "
    "FROM unnest(%(ids)s::bigint[]) AS v(id) "
    "WHERE d.id = v.id AND d.status IN ('pending', 'retrying')"
)


@cache
def _record_sql() -> str:
    sets = ", ".join(f"{name} = v.{name}" for name in names(Outcome) if name != "id")
    return (
        f"UPDATE {TABLE} d SET {sets} FROM {recordset(Outcome, 'v')} "  # noqa: S608
        "WHERE d.id = v.id AND d.status IN ('pending', 'retrying')"
    )


def record(outcomes: list[Outcome]) -> None:
    """Write ``outcomes``, each only to a delivery still unfinished (one erased or filtered
    meanwhile keeps that). A delivered one's attempts are counted from what is stored."""
    if not outcomes:
        return
    if connection.vendor != "postgresql":
        with transaction.atomic():
            for o in outcomes:
                values = dict(zip(names(Outcome), astuple(o), strict=True))
                pk = values.pop("id")
                Delivery.objects.filter(pk=pk, status__in=UNFINISHED).update(**values)
        return
    delivered: dict[tuple, list[int]] = {}
    rest = []
    for o in outcomes:
        if o.status == "delivered":
            delivered.setdefault((o.delivered_at, o.response_code), []).append(o.id)
        else:
            rest.append(o)
    with transaction.atomic(), raw_cursor() as cursor:
        # An outcome lost with the database server's last moments only sends its delivery
        # again (vendors deduplicate on the message id): no need to wait for the disk.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        for (at, code), ids in delivered.items():
            cursor.execute(_DELIVERED, {"at": at, "code": code, "ids": ids})
        if rest:
            cursor.execute(_record_sql(), [_document(rest)])


class Writer:
    """Records outcomes beside the caller, so that it sends its next wave meanwhile.

    On PostgreSQL, outside a transaction, the outcomes go to a thread of the writer's own
    with a connection of its own, one batch after the other in the order given; ``unwritten``
    names the deliveries whose outcome is not written yet, for ``due(skip=…)``. Elsewhere
    (SQLite, which writes one at a time; or inside a caller's transaction, which the thread
    could not see) each batch is written at once. ``flush`` waits until everything given is
    written and raises what the writing raised; leaving the ``with`` block flushes and closes
    the thread's connection."""

    def __init__(self):
        self._aside = connection.vendor == "postgresql" and not connection.in_atomic_block
        self._thread: ThreadPoolExecutor | None = None
        self._writing: list[tuple[Future, list[int]]] = []

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None:
                self.flush()
        finally:
            if self._thread is not None:
                self._thread.submit(_close_connection).result()
                self._thread.shutdown()
                self._thread = None

    def write(self, outcomes: list[Outcome], *, now: bool = False) -> None:
        """Record ``outcomes``; ``now``: before returning (after what was given earlier)."""
        if not outcomes:
            return
        if not self._aside or now:
            self.flush()
            record(outcomes)
            return
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="delivery-writer")
        future = self._thread.submit(record, outcomes)
        self._writing.append((future, [o.id for o in outcomes]))

    @property
    def unwritten(self) -> list[int]:
        """The deliveries whose outcome was given and is not written yet."""
        still = []
        for future, ids in self._writing:
            if future.done():
                future.result()  # what the writing raised, raised here
            else:
                still.append((future, ids))
        self._writing = still
        return [pk for _, ids in still for pk in ids]

    def flush(self) -> None:
        """Wait until every outcome given is written."""
        writing, self._writing = self._writing, []
        for future, _ in writing:
            future.result()


def _close_connection() -> None:
    connection.close()
