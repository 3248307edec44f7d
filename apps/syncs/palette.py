"""The command palette's syncs: find one, and start its dry run through the dry run's own
confirmation."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from apps.access.rules import user_can
from martech.common.navigation import ACTIONS, SearchResult, verb_rest

from . import selectors

VERBS = ("dry run", "dry-run")


def _matching(user, query: str):
    return (
        selectors.sync_list(user=user)
        .filter(
            Q(name__icontains=query)
            | Q(model__name__icontains=query)
            | Q(destination__name__icontains=query)
        )
        .order_by("name")
    )


def sync_palette_search(*, user, query: str, limit: int) -> list[SearchResult]:
    """Find the syncs ``user`` may see by name, model or destination."""
    return [
        SearchResult(
            sync.name,
            reverse("syncs:sync_detail", args=[sync.pk]),
            "Sync",
            f"{sync.model.name} → {sync.destination.name}",
        )
        for sync in _matching(user, query)[:limit]
    ]


def dry_run_palette_actions(*, user, query: str, limit: int) -> list[SearchResult]:
    """Offer a dry run of each sync, to those who may run syncs."""
    rest = verb_rest(query, VERBS)
    if rest is None or not user_can(user, "syncs.run"):
        return []
    return [
        SearchResult(
            title=f"Start dry run: {sync.name}",
            url=reverse("syncs:sync_dry_run", args=[sync.pk]),
            kind="Sync",
            subtitle=f"{sync.model.name} → {sync.destination.name}; nothing is sent",
            group=ACTIONS,
        )
        for sync in _matching(user, rest)[:limit]
    ]
