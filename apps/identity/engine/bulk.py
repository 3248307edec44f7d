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
from itertools import repeat

from django.db import connection, transaction
from django.utils import timezone

from apps.consent import gate

from .. import store
from ..choices import LinkKind, LinkStatus
from ..models import Identifier, Link, Profile
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
        lookup = pool.submit(store.identifier_lookup, keys, "id", connection.connection)
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
        existing = store.identifier_lookup(keys)
    groups: dict[int, list[int]] = defaultdict(list)
    for n in range(len(keys)):
        groups[sets.find(n)].append(n)
    new_groups = [[n for n in g if keys[n] not in existing] for g in groups.values()]
    new_groups = [g for g in new_groups if g]
    regroup_seeds = {existing[keys[n]] for g in groups.values() for n in g if keys[n] in existing}

    now = timezone.now()
    profile_ids = store.reserve_ids(Profile, len(new_groups))
    store.insert(
        Profile,
        {
            "id": profile_ids,
            "state": [state_of(keys[n][0] for n in g).value for g in new_groups],
            "first_touch": repeat({}),
            "last_touch": repeat({}),
            "created_at": repeat(now),
            "updated_at": repeat(now),
        },
    )
    members = [n for g in new_groups for n in g]
    ids_block = store.reserve_ids(Identifier, len(members))
    pk_of: list[int] = [existing.get(key, 0) for key in keys]
    for n, pk in zip(members, ids_block, strict=True):
        pk_of[n] = pk
    store.insert(
        Identifier,
        {
            "id": ids_block,
            "type": [keys[n][0] for n in members],
            "value": [keys[n][1] for n in members],
            "profile_id": [p for g, p in zip(new_groups, profile_ids, strict=True) for _ in g],
            "source": repeat(source),
            "first_seen": repeat(now),
        },
    )
    kept = [n for n in range(len(batch)) if ends[n][0] != ends[n][1]]
    link_ids = store.reserve_ids(Link, len(kept))
    store.insert(
        Link,
        {
            "id": link_ids,
            "a_id": [pk_of[ends[n][0]] for n in kept],
            "b_id": [pk_of[ends[n][1]] for n in kept],
            "kind": repeat(LinkKind.DETERMINISTIC.value),
            "status": [statuses[n][0] for n in kept],
            "confidence": repeat(1.0),
            "rule": [batch[n].rule for n in kept],
            "source": [batch[n].source or source for n in kept],
            "event_ref": repeat(""),
            "observed_at": [batch[n].observed_at for n in kept],
            "created_at": repeat(now),
            "reason": [statuses[n][1] for n in kept],
        },
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
