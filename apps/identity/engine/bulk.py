"""Load a large batch of deterministic evidence at once (imports, backfills, the benchmark).

The batch is resolved in memory with the same canonical order and limits as the resolver,
written with PostgreSQL COPY (bulk inserts on SQLite), and any group that touches
identifiers already in the graph is handed to the resolver afterwards, so the outcome is
the same as recording the links one by one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

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


def _existing(keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    by_type: dict[str, list[str]] = defaultdict(list)
    for kind, value in keys:
        by_type[kind].append(value)
    for kind, values in by_type.items():
        if connection.vendor == "postgresql":
            # One array parameter per type: far cheaper than thousands of placeholders.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id, value FROM identity_identifier WHERE type = %s AND value = ANY(%s)",
                    [kind, values],
                )
                found.update(((kind, value), pk) for pk, value in cursor.fetchall())
            continue
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            for pk, value in Identifier.objects.filter(type=kind, value__in=chunk).values_list(
                "pk", "value"
            ):
                found[(kind, value)] = pk
    return found


def _reserve_ids(table: str, n: int) -> list[int]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, n],
            )
            return [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + n))


def _copy(table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        copy_rows(table, columns, rows)
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
    batch = list(evidence)
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
    existing = _existing(keys)
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
    for n in order:
        a, b = ends[n]
        if a == b:
            continue
        ok, reason = sets.union(a, b)
        statuses[n] = (LinkStatus.ACTIVE if ok else LinkStatus.CONFLICT, reason)

    groups: dict[int, list[int]] = defaultdict(list)
    for n in range(len(keys)):
        groups[sets.find(n)].append(n)
    new_groups = [[n for n in g if keys[n] not in existing] for g in groups.values()]
    new_groups = [g for g in new_groups if g]
    regroup_seeds = {existing[keys[n]] for g in groups.values() for n in g if keys[n] in existing}

    now = timezone.now()
    profile_ids = _reserve_ids("identity_profile", len(new_groups))
    _copy(
        "identity_profile",
        ["id", "state", "first_touch", "last_touch", "created_at", "updated_at"],
        [
            (pk, state_of(keys[n][0] for n in g), "{}", "{}", now, now)
            for pk, g in zip(profile_ids, new_groups, strict=True)
        ],
    )
    ids = _reserve_ids("identity_identifier", sum(len(g) for g in new_groups))
    pk_of: dict[int, int] = {n: existing[key] for n, key in enumerate(keys) if key in existing}
    rows, cursor = [], 0
    for group, profile_id in zip(new_groups, profile_ids, strict=True):
        for n in group:
            pk_of[n] = ids[cursor]
            rows.append((ids[cursor], keys[n][0], keys[n][1], profile_id, source, now))
            cursor += 1
    _copy(
        "identity_identifier",
        ["id", "type", "value", "profile_id", "source", "first_seen"],
        rows,
    )
    link_rows = [
        (pk_of[ends[n][0]], pk_of[ends[n][1]], LinkKind.DETERMINISTIC, statuses[n][0], 1.0,
         item.rule, item.source or source, "", item.observed_at, now, statuses[n][1])
        for n, item in enumerate(batch)
        if ends[n][0] != ends[n][1]
    ]  # fmt: skip
    _copy(
        "identity_link",
        ["a_id", "b_id", "kind", "status", "confidence", "rule", "source", "event_ref",
         "observed_at", "created_at", "reason"],
        link_rows,
    )  # fmt: skip
    if regroup_seeds:
        resolve(regroup_seeds)
    return BulkResult(
        links=len(link_rows),
        identifiers=len(rows),
        profiles=len(profile_ids),
        conflicts=sum(1 for s, _ in statuses if s == LinkStatus.CONFLICT),
        regrouped=len(regroup_seeds),
    )
