"""The command palette's erasure requests: find one by reference or by the person's
identifier, and open a new one through the request form."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse

from apps.access.rules import user_can
from apps.identity.normalise import Ident, InvalidIdentifier, normalise
from martech.common.navigation import ACTIONS, SearchResult, verb_rest

from . import selectors
from .suppression import digests

VERBS = ("erase", "erasure", "forget")


def _identifier(text: str) -> Ident | None:
    """The identifier ``text`` names (``type:value``, or a bare email address), if any."""
    text = text.strip()
    if " " in text or not text:
        return None
    kind, _, value = text.partition(":")
    if not value:
        if "@" not in text:
            return None
        kind, value = "email", text
    try:
        return normalise(kind, value)
    except (InvalidIdentifier, ValueError):
        return None


def erasure_palette_search(*, user, query: str, limit: int) -> list[SearchResult]:
    """Find the erasure requests ``user`` may see by reference, or by the identifier of the
    person (matched by its keyed hash: the request keeps no readable identifier)."""
    match = Q(reference__icontains=query)
    ident = _identifier(query)
    if ident is not None:
        hashes = set(digests(f"{ident.type}:{ident.value}").values())
        match |= Q(subject_hash__in=hashes) | Q(identifiers__value_hash__in=hashes)
    found = selectors.request_list(user=user).filter(match).distinct().order_by("-created_at")
    return [
        SearchResult(
            request.reference,
            reverse("erasure:request_detail", args=[request.pk]),
            "Erasure request",
            " · ".join(
                (request.subject_masked, request.get_status_display(), f"due {request.due}")
            ),
        )
        for request in found[:limit]
    ]


def erasure_palette_actions(*, user, query: str, limit: int) -> list[SearchResult]:
    """Offer to open an erasure request (prefilled with the identifier typed, if any), to
    those who may log one."""
    rest = verb_rest(query, VERBS)
    ident = _identifier(query if rest is None else rest)
    if (rest is None and ident is None) or not user_can(user, "erasure.request"):
        return []
    url = reverse("erasure:request_create")
    title = "Open an erasure request"
    if ident is not None:
        url += "?" + urlencode({"identifier": f"{ident.type}:{ident.value}"})
        title += f" for {ident.type}:{ident.value}"
    return [SearchResult(title, url, "Erasure request", "Privacy · Erasure", group=ACTIONS)]
