"""Load a large batch of deterministic evidence at once (imports, backfills, the benchmark).

The batch is resolved in memory with the same canonical order and limits as the resolver,
written with PostgreSQL COPY (bulk inserts on SQLite), and any group that touches
identifiers already in the graph is handed to the resolver afterwards, so the outcome is
the same as recording the links one by one. Evidence that names an erased person is left
out, as the privacy gate (``apps.consent.gate``) has every backfill do: a link would record
their identifier again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from apps.consent import gate
from martech.common.pgcopy import copy_rows

from ..choices import LinkKind, LinkStatus
from ..models import Identifier
from ..normalise import Ident
from .resolver import _Sets, resolve, state_of


@dataclass(frozen=True)
class Evidence:
    a: Ident
    b: Ident
    rule: str
    observed_at: dt.datetime
    source: str = ""


@dataclass
class BulkResult:
    links: int
    identifiers: int
    profiles: int
    conflicts: int
    regrouped: int  # groups that met identifiers already in the graph
    suppressed: int = 0  # evidence left out: it names an erased person


def identifier_lookup(keys, column: str = "id", raw=None) -> dict[tuple[str, str], int]:
    """``column`` (``id`` or ``profile_id``) of the identifiers among ``keys`` ((type, value)
    pairs) that are in the graph. On PostgreSQL one array parameter per type, far cheaper
    than a placeholder per value. ``raw`` is the PostgreSQL connection of the running
    transaction, passed in when this runs on a helper thread."""
    if column not in ("id", "profile_id"):
        raise ValueError(column)
    by_type: dict[str, list[str]] = defaultdict(list)
    for kind, value in keys:
        by_type[kind].append(value)
    found: dict[tuple[str, str], int] = {}
    statement = (
        f"SELECT {column}, value FROM identity_identifier "  # noqa: S608
        "WHERE type = %s AND value = ANY(%s)"
    )
    for kind, values in by_type.items():
        if raw is not None:
            rows = raw.execute(statement, [kind, values]).fetchall()
        elif connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(statement, [kind, values])
                rows = cursor.fetchall()
        else:
            rows = [
                row
                for start in range(0, len(values), 500)
                for row in Identifier.objects.filter(
                    type=kind, value__in=values[start : start + 500]
                ).values_list(column, "value")
            ]
        found.update(((kind, value), ref) for ref, value in rows)
    return found


def _reserve_ids(table: str, n: int) -> range:
    """A block of ``n`` ids from the table's sequence.

    The table is locked against other writers (readers are not blocked) until the
    transaction ends, so that no concurrent insert can draw a value inside the block
    between reading and advancing the sequence; one statement instead of ``n`` nextval calls.
    """
    if n == 0:
        return range(0)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
                " nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                [table, table, n],
            )
            last = cursor.fetchone()[0]
            return range(last - n + 1, last + 1)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        start = cursor.fetchone()[0] + 1
    return range(start, start + n)


def _copy(table: str, columns: list[str], types: list[str], rows: Iterable[tuple]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        copy_rows(table, columns, rows, types=types)
        return
    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
            rows,
        )


@transaction.atomic
def bulk_link(evidence: Iterable[Evidence], *, source: str = "") -> BulkResult:
    """Record a batch of deterministic links; return what was written."""
    batch, suppressed = _without_erased(list(evidence))
    index: dict[tuple[str, str], int] = {}
    keys: list[tuple[str, str]] = []
    ends: list[tuple[int, int]] = []
    for item in batch:
        pair = []
        for ident in (item.a, item.b):
            key = (ident.type, ident.value)
            local = index.get(key)
            if local is None:
                local = index[key] = len(keys)
                keys.append(key)
            pair.append(local)
        ends.append((pair[0], pair[1]))
    # The lookup of what is already stored runs in the server while the batch is resolved
    # in memory here (the driver releases the GIL while it waits).
    lookup = pool = None
    if connection.vendor == "postgresql":
        pool = ThreadPoolExecutor(1)
        lookup = pool.submit(identifier_lookup, keys, "id", connection.connection)
    text = [f"{k}:{v}" for k, v in keys]

    def canonical(n: int):
        ta, tb = text[ends[n][0]], text[ends[n][1]]
        return (
            (batch[n].observed_at, ta, tb, batch[n].rule)
            if ta < tb
            else (batch[n].observed_at, tb, ta, batch[n].rule)
        )

    order = sorted(range(len(batch)), key=canonical)
    sets = _Sets({n: keys[n][0] for n in range(len(keys))})
    statuses: list[tuple[str, str]] = [("", "")] * len(batch)
    active, conflict = LinkStatus.ACTIVE.value, LinkStatus.CONFLICT.value
    for n in order:
        a, b = ends[n]
        if a == b:
            continue
        ok, reason = sets.union(a, b)
        statuses[n] = (active if ok else conflict, reason)

    if pool is not None:
        existing = lookup.result()
        pool.shutdown()
    else:
        existing = identifier_lookup(keys)
    groups: dict[int, list[int]] = defaultdict(list)
    for n in range(len(keys)):
        groups[sets.find(n)].append(n)
    new_groups = [[n for n in g if keys[n] not in existing] for g in groups.values()]
    new_groups = [g for g in new_groups if g]
    regroup_seeds = {existing[keys[n]] for g in groups.values() for n in g if keys[n] in existing}

    now = timezone.now()
    empty = Jsonb({}) if connection.vendor == "postgresql" else "{}"
    profile_ids = _reserve_ids("identity_profile", len(new_groups))
    _copy(
        "identity_profile",
        ["id", "state", "first_touch", "last_touch", "created_at", "updated_at"],
        ["int8", "varchar", "jsonb", "jsonb", "timestamptz", "timestamptz"],
        [
            (pk, state_of(keys[n][0] for n in g).value, empty, empty, now, now)
            for pk, g in zip(profile_ids, new_groups, strict=True)
        ],
    )
    ids_block = _reserve_ids("identity_identifier", sum(len(g) for g in new_groups))
    ids = iter(ids_block)
    pk_of: list[int] = [existing.get(key, 0) for key in keys]

    def identifier_rows():
        for group, profile_id in zip(new_groups, profile_ids, strict=True):
            for n in group:
                pk_of[n] = pk = next(ids)
                kind, value = keys[n]
                yield (pk, kind, value, profile_id, source, now)

    _copy(
        "identity_identifier",
        ["id", "type", "value", "profile_id", "source", "first_seen"],
        ["int8", "varchar", "varchar", "int8", "varchar", "timestamptz"],
        identifier_rows(),
    )
    kept = [n for n in range(len(batch)) if ends[n][0] != ends[n][1]]
    link_ids = _reserve_ids("identity_link", len(kept))
    deterministic = LinkKind.DETERMINISTIC.value

    def link_rows():
        for pk, n in zip(link_ids, kept, strict=True):
            item, (a, b), (status, reason) = batch[n], ends[n], statuses[n]
            yield (
                pk,
                pk_of[a],
                pk_of[b],
                deterministic,
                status,
                1.0,
                item.rule,
                item.source or source,
                "",
                item.observed_at,
                now,
                reason,
            )

    _copy(
        "identity_link",
        [
            "id",
            "a_id",
            "b_id",
            "kind",
            "status",
            "confidence",
            "rule",
            "source",
            "event_ref",
            "observed_at",
            "created_at",
            "reason",
        ],
        [
            "int8",
            "int8",
            "int8",
            "varchar",
            "varchar",
            "float8",
            "varchar",
            "varchar",
            "varchar",
            "timestamptz",
            "timestamptz",
            "varchar",
        ],
        link_rows(),
    )
    if regroup_seeds:
        resolve(regroup_seeds)
    return BulkResult(
        links=len(kept),
        identifiers=len(ids_block),
        profiles=len(profile_ids),
        conflicts=sum(1 for s, _ in statuses if s == conflict),
        regrouped=len(regroup_seeds),
        suppressed=suppressed,
    )


def _without_erased(batch: list[Evidence]) -> tuple[list[Evidence], int]:
    """The evidence that names no erased person, and how much was left out."""
    if not batch or not gate.anyone_suppressed():
        return batch, 0
    blocked = gate.suppressed(gate.subjects_of({i for e in batch for i in (e.a, e.b)}))
    if not blocked:
        return batch, 0
    kept = [e for e in batch if not gate.subjects_of((e.a, e.b)) & blocked]
    return kept, len(batch) - len(kept)
