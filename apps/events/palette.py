"""The command palette's sources."""

from __future__ import annotations

from django.urls import reverse

from martech.common.navigation import SearchResult

from . import selectors


def source_palette_search(*, user, query: str, limit: int) -> list[SearchResult]:
    """Find the sources ``user`` may see by name."""
    found = selectors.source_list(user=user).filter(name__icontains=query).order_by("name")
    return [
        SearchResult(
            source.name,
            reverse("events:source_detail", args=[source.pk]),
            "Source",
            f"{source.get_kind_display()} · {source.get_environment_display()}",
        )
        for source in found[:limit]
    ]
