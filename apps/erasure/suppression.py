"""The suppression list: hashed identifiers of erased people. Collection, the pipeline's
routing, delivery replays and reverse-ETL syncs ask it through
``apps.destinations.routing.suppressed`` (registered in ``apps.py``).

Each process keeps the list's hashes in memory with the generation they were read under
(``martech.common.sharedcache``): the collection API then asks the cache for one value, not
the database, on every request. Adding to the list replaces the generation. The memory is
only filled outside a transaction (a transaction's own, uncommitted rows never enter it) and
only while the list is at most ``MEMORY_LIMIT`` long; otherwise each check asks the database.
"""

from __future__ import annotations

import hashlib

from django.db import connection

from apps.identity.normalise import Ident
from martech.common import sharedcache

GENERATION = sharedcache.register("erasure:suppression:generation")
MEMORY_LIMIT = 500_000
# (generation, the list's hashes, or None when it is longer than MEMORY_LIMIT)
_memory: tuple[object, frozenset[str] | None] | None = None


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
    sharedcache.bump(GENERATION)


def _remembered() -> frozenset[str] | None:
    """The list's hashes from this process's memory, read again when the generation moved
    (outside a transaction only); None when the database must be asked."""
    global _memory
    generation = sharedcache.current(GENERATION)
    memory = _memory
    if memory is not None and memory[0] == generation:
        return memory[1]
    if connection.in_atomic_block:
        return None
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
    found = Suppression.objects.filter(value_hash__in=list(hashes)).values_list(
        "value_hash", flat=True
    )
    return {hashes[h] for h in found}
