"""The suppression list: hashed identifiers of erased people. Collection, the pipeline's
routing, delivery replays and reverse-ETL syncs ask it through
``apps.destinations.routing.suppressed`` (registered in ``apps.py``).

Each process keeps the list's hashes in memory with the generation they were read under
(``martech.common.sharedcache``): the collection API and the pipeline then ask the cache for
one value, not the database. Adding to the list replaces the generation. A transaction that
added to the list never fills the memory (its rows are not committed yet), and the memory is
only kept while the list is at most ``MEMORY_LIMIT`` long, and only where the cache is
shared by all processes (not in the embedded mode's per-process memory); otherwise each check
asks the database.
"""

from __future__ import annotations

import hashlib
import threading

from django.db import connection, transaction

from apps.identity.normalise import Ident
from martech.common import sharedcache

GENERATION = sharedcache.register("erasure:suppression:generation")
MEMORY_LIMIT = 500_000
# (generation, the list's hashes, or None when it is longer than MEMORY_LIMIT)
_memory: tuple[object, frozenset[str] | None] | None = None
_written = threading.local()  # .pending: this thread's open transaction added to the list


def digest(kind: str, value: str) -> str:
    """SHA-256 of the normalised ``type:value``: what the list and the request keep."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def mask(ident: Ident) -> str:
    """Enough for a person to recognise the identifier, not enough to read it."""
    value = ident.value
    if ident.type == "email" and "@" in value:
        local, domain = value.split("@", 1)
        return f"{local[:1]}***@{domain}"
    if len(value) <= 4:
        return "***"
    return f"{value[:2]}***{value[-2:]}"


def forget(**_) -> None:
    """The list changed: this process forgets it now, every other one after the commit."""
    global _memory
    _memory = None
    if connection.in_atomic_block:
        _written.pending = True
        transaction.on_commit(lambda: setattr(_written, "pending", False))
    sharedcache.bump(GENERATION)


def _remembered() -> frozenset[str] | None:
    """The list's hashes from this process's memory, read again when the generation moved;
    None when the database must be asked."""
    global _memory
    if not sharedcache.shared():
        return None  # another process's additions could not be told apart: ask every time
    if not connection.in_atomic_block:
        _written.pending = False  # no transaction open: nothing uncommitted of this thread's
    elif getattr(_written, "pending", False):
        return None  # this transaction's own additions are in the database only
    generation = sharedcache.current(GENERATION)
    memory = _memory
    if memory is not None and memory[0] == generation:
        return memory[1]
    from .models import Suppression

    hashes = list(Suppression.objects.values_list("value_hash", flat=True)[: MEMORY_LIMIT + 1])
    known = frozenset(hashes) if len(hashes) <= MEMORY_LIMIT else None
    _memory = (generation, known)
    return known


def nothing_suppressed() -> bool:
    """True when this process knows the list is empty (at the current generation)."""
    known = _remembered()
    return known is not None and not known


def suppressed_subjects(subjects: set[str]) -> set[str]:
    """Which of ``subjects`` (``type:value``, normalised) are on the list."""
    from .models import Suppression

    if not subjects:
        return set()
    known = _remembered()
    if known is not None and not known:
        return set()
    hashes = {hashlib.sha256(s.encode()).hexdigest(): s for s in subjects}
    if known is not None:
        return {subject for h, subject in hashes.items() if h in known}
    if connection.vendor == "postgresql":
        from martech.common.pgcopy import execute_arrays

        found = [h for (h,) in execute_arrays(
            "SELECT value_hash FROM erasure_suppression WHERE value_hash = ANY(%b::text[])",
            [list(hashes)],
        )]  # fmt: skip
    else:
        found = Suppression.objects.filter(value_hash__in=list(hashes)).values_list(
            "value_hash", flat=True
        )
    return {hashes[h] for h in found}
