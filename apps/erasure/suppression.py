"""The suppression list: hashed identifiers of erased people. Collection, the pipeline's
routing, delivery replays and reverse-ETL syncs ask it through
``apps.destinations.routing.suppressed`` (registered in ``apps.py``)."""

from __future__ import annotations

import hashlib

from apps.identity.normalise import Ident


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


def suppressed_subjects(subjects: set[str]) -> set[str]:
    """Which of ``subjects`` (``type:value``, normalised) are on the list."""
    from .models import Suppression

    if not subjects:
        return set()
    hashes = {hashlib.sha256(s.encode()).hexdigest(): s for s in subjects}
    found = Suppression.objects.filter(value_hash__in=list(hashes)).values_list(
        "value_hash", flat=True
    )
    return {hashes[h] for h in found}
