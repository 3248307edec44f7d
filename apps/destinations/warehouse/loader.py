"""Loading events into a warehouse destination.

A load reads the events after the last one the destination's previous load took, in id
order, stopping before the first event still waiting for processing (so none is passed
over while it waits). For each it decides what routing decides for a destination that is
sent to (``routing.decide``: the source's environment, the events the destination takes,
consent for its purposes) and whether any identifier its message names is on the
suppression list; what passes is laid out (``layout``) and written table by table in bulk
through the warehouse's engine, idempotent by message id. After each batch the load records
how far it got, so a load that stops (a killed worker, a failing warehouse) is taken up by
the next one where it ended, and a batch written twice is written once.

A destination has at most one running load (a database constraint); a load left running by
a worker that died is marked failed after ``STALE`` so the next can start.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.consent import gate
from apps.events.selectors import settled_events
from apps.syncs.models import Warehouse
from apps.syncs.selectors import warehouse_engine
from apps.syncs.warehouses.base import Column, Table

from ..adapters.warehouse import DEFAULT_INTERVAL, DEFAULT_SCHEMA
from ..choices import DeliveryStatus, Sends
from ..models import Destination, LoadStatus, WarehouseLoad
from ..routing import Routed, Rules, decide
from . import ownership
from .layout import USERS, Planner

log = logging.getLogger(__name__)

BATCH = 5_000  # events read, laid out and written at once
MAX_BATCHES = 200  # per load: a backlog is taken by the next load, due at once
STALE = dt.timedelta(hours=1)

EVENT_TYPES = frozenset({"track", "page", "screen"})
PROFILE_TYPES = frozenset({"identify", "group", "alias"})


def rules_of(destination: Destination) -> Rules:
    """Routing's rules for ``destination``, taking every message type it loads: events are
    tracks, pages and screens; profiles are identifies, groups and aliases."""
    types = set()
    if destination.sends in (Sends.EVENTS, Sends.BOTH):
        types |= EVENT_TYPES
    if destination.sends in (Sends.PROFILES, Sends.BOTH):
        types |= PROFILE_TYPES
    return dataclasses.replace(Rules.of(destination), types=frozenset(types))


def cursor(destination: Destination) -> int:
    """The id of the last event the destination's loads took (0: none yet)."""
    last = (
        WarehouseLoad.objects.filter(destination=destination)
        .exclude(status=LoadStatus.RUNNING)
        .order_by("-last_event_id")
        .values_list("last_event_id", flat=True)
        .first()
    )
    return last or 0


def interval(destination: Destination) -> dt.timedelta:
    minutes = (destination.config or {}).get("interval_minutes") or DEFAULT_INTERVAL
    return dt.timedelta(minutes=int(minutes))


def due(destination: Destination, now: dt.datetime | None = None) -> bool:
    """Whether a load of ``destination`` should start: its interval has passed since the
    last one started, or the last one stopped with more to take."""
    now = now or timezone.now()
    last = WarehouseLoad.objects.filter(destination=destination).order_by("-id").first()
    if last is None:
        return True
    if last.status == LoadStatus.RUNNING:
        return last.started_at < now - STALE
    if last.status == LoadStatus.LOADED and last.events >= BATCH * MAX_BATCHES:
        return True
    return last.started_at + interval(destination) <= now


def _expire_stale(destination: Destination, now: dt.datetime) -> None:
    WarehouseLoad.objects.filter(
        destination=destination, status=LoadStatus.RUNNING, started_at__lt=now - STALE
    ).update(
        status=LoadStatus.FAILED,
        finished_at=now,
        error="The load stopped without finishing (its worker ended); the next load takes "
        "up where it ended.",
    )


def _scrubbed(exc: Exception, credentials: dict) -> str:
    """The first line of an error, without any credential the connector may repeat."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]
    for value in credentials.values():
        if isinstance(value, str) and len(value) >= 4:
            text = text.replace(value, "***")
    return text


def _choose(events, rules: Rules, suppressing: bool) -> tuple[list[dict], Counter]:
    """The messages of ``events`` that go to the destination, with ``receivedAt`` set, and
    how many were left out for each reason (``suppressing``: whether anyone is suppressed,
    and the events carry their subjects)."""
    blocked = gate.suppressed(s for e in events for s in e.subjects) if suppressing else ()
    chosen, filtered = [], Counter()
    for event in events:
        if event.payload is None:
            filtered["unreadable"] += 1
            continue
        if blocked and not blocked.isdisjoint(event.subjects):
            filtered["suppression"] += 1
            continue
        item = Routed(
            event_id=event.id,
            message_id=event.message_id,
            message=event.payload,
            status=event.status,
            consent=event.consent,
            sandbox=event.source_environment == "sandbox",
        )
        status, reason = decide(rules, item, set())
        if status != DeliveryStatus.PENDING:
            filtered[reason] += 1
            continue
        chosen.append({**event.payload, "receivedAt": event.received_at})
    return chosen, filtered


def load(
    destination: Destination, *, batch: int = BATCH, max_batches: int = MAX_BATCHES
) -> WarehouseLoad | None:
    """Load what arrived since the last load; None when another load of the destination
    is running. The load's record says how it ended."""
    now = timezone.now()
    _expire_stale(destination, now)
    after = cursor(destination)
    try:
        with transaction.atomic():  # a savepoint when called inside a transaction
            record = WarehouseLoad.objects.create(
                destination=destination, after_event_id=after, last_event_id=after, started_at=now
            )
    except IntegrityError:
        return None
    config = destination.config or {}
    warehouse = Warehouse.objects.filter(pk=_int(config.get("warehouse"))).first()
    credentials: dict = {}
    rows, filtered = Counter(), Counter()
    try:
        if warehouse is None:
            raise LookupError("Its warehouse connection no longer exists: choose another.")
        engine, credentials = warehouse_engine(warehouse)
        schema = config.get("schema") or DEFAULT_SCHEMA
        rules = rules_of(destination)
        into = _Into(engine, schema, destination, record)
        with engine.loading(credentials) as batch_connection:
            for _ in range(max_batches):
                suppressing = gate.anyone_suppressed()
                events = settled_events(record.last_event_id, batch, subjects=suppressing)
                if not events:
                    break
                messages, left_out = _choose(events, rules, suppressing)
                # One transaction of the warehouse's a batch, committed before the load
                # records how far it got: a batch is never recorded as loaded unless it is.
                with batch_connection() as connection:
                    into.write(connection, messages, rows)
                filtered.update(left_out)
                record.events += len(events)
                record.loaded += len(messages)
                record.last_event_id = events[-1].id
                record.newest_received_at = max(e.received_at for e in events)
                record.rows, record.filtered = dict(rows), dict(filtered)
                record.save()
                if len(events) < batch:
                    break
        record.status = LoadStatus.LOADED
    except Exception as exc:  # recorded on the load, shown on the destination's page
        log.warning("Load %s of destination %s failed", record.pk, destination.pk, exc_info=False)
        record.status = LoadStatus.FAILED
        record.error = _scrubbed(exc, credentials)
    record.finished_at = timezone.now()
    record.rows, record.filtered = dict(rows), dict(filtered)
    record.save()
    _note_outcome(destination, record)
    return record


class _Into:
    """Where a load writes: the destination's schema in its warehouse, laid out batch after
    batch against the tables the warehouse has (read once, when the first batch claims the
    schema), noting on the load's record the tables and columns it adds and the type
    conflicts it meets."""

    def __init__(self, engine, schema: str, destination: Destination, record: WarehouseLoad):
        self.engine, self.schema = engine, schema
        self.destination, self.record = destination, record
        self.planner: Planner | None = None
        self.ensured: set[str] = set()  # tables made as this load's layout has them

    def write(self, connection, messages: list[dict], rows: Counter) -> None:
        engine, schema, record = self.engine, self.schema, self.record
        if self.planner is None:
            found = engine.tables(connection, schema)
            ownership.claim(engine, connection, schema, self.destination, found)
            self.planner = Planner({t: c for t, c in found.items() if not ownership.is_marker(t)})
        existing = {name for name, columns in self.planner.known.items() if columns}
        layout = self.planner.layout(messages, loaded_at=timezone.now())
        for part in layout.tables.values():
            table = Table(
                schema=schema,
                name=part.name,
                columns=tuple(Column(n, t) for n, t in part.columns.items()),
                key=part.key,
            )
            # a table this load has made as it is, with no new column, is as the warehouse
            # has it
            if part.added or part.name not in self.ensured:
                added = engine.ensure(connection, table)
                if part.name not in existing:  # created: recorded as a table
                    record.added.append({"table": part.name, "column": "", "type": "table"})
                for column in added:
                    record.added.append(
                        {"table": part.name, "column": column.name, "type": column.type}
                    )
                self.ensured.add(part.name)
            if part.name == USERS and part.rows:
                # the latest traits win: a user's earlier row makes way
                engine.delete(connection, USERS, schema, "id", [r["id"] for r in part.rows])
            rows[part.name] += engine.load(connection, table, part.tuples())
        record.conflicts.extend(dataclasses.asdict(c) for c in layout.conflicts)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _note_outcome(destination: Destination, record: WarehouseLoad) -> None:
    """The destination's last success or error, as its list shows for every destination."""
    if record.status == LoadStatus.LOADED:
        Destination.objects.filter(pk=destination.pk).update(last_success_at=record.finished_at)
    else:
        Destination.objects.filter(pk=destination.pk).update(
            last_error=record.error[:500], last_error_at=record.finished_at
        )
