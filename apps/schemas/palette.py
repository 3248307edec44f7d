"""The command palette's event schemas."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from martech.common.navigation import SearchResult

from . import selectors


def schema_palette_search(*, user, query: str, limit: int) -> list[SearchResult]:
    """Find the event schemas ``user`` may see by event name or owner."""
    found = (
        selectors.schema_list(user=user)
        .filter(Q(name__icontains=query) | Q(owner__icontains=query))
        .order_by("name")
    )
    return [
        SearchResult(
            schema.name,
            reverse("schemas:schema_detail", args=[schema.pk]),
            "Event schema",
            " · ".join(filter(None, [schema.owner, schema.description]))[:120],
        )
        for schema in found[:limit]
    ]
