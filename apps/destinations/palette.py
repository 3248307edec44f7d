"""The command palette's destinations: find one, and replay its dead letters through the
replay's own confirmation."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse

from apps.access.rules import user_can
from martech.common.navigation import ACTIONS, SearchResult, verb_rest
from martech.common.views import count_of

from . import selectors
from .adapters import CATALOG
from .choices import DeliveryStatus

VERBS = ("replay",)


def _adapter(destination) -> str:
    adapter = CATALOG.get(destination.adapter)
    return adapter.label if adapter else destination.adapter


def destination_palette_search(*, user, query: str, limit: int) -> list[SearchResult]:
    """Find the destinations ``user`` may see by name or vendor."""
    found = selectors.destination_list(user=user).filter(
        Q(name__icontains=query) | Q(adapter__icontains=query)
    )
    return [
        SearchResult(
            destination.name,
            reverse("destinations:destination_detail", args=[destination.pk]),
            "Destination",
            f"{_adapter(destination)} · {destination.get_environment_display()}",
        )
        for destination in found.order_by("name")[:limit]
    ]


def replay_palette_actions(*, user, query: str, limit: int) -> list[SearchResult]:
    """Offer to replay each destination's dead letters, to those who may replay there."""
    rest = verb_rest(query, VERBS)
    if rest is None or not user_can(user, "destinations.replay"):
        return []
    production = user_can(user, "destinations.send_production")
    dead = Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.DEAD))
    destinations = (
        selectors.destination_list(user=user)
        .filter(Q(name__icontains=rest) | Q(adapter__icontains=rest))
        .annotate(dead_now=dead)
        .filter(dead_now__gt=0)
        .order_by("name")
    )
    out = []
    for destination in destinations:
        if destination.is_production and not production:
            continue
        query_string = urlencode({"everything": 1, "destination": destination.pk})
        out.append(
            SearchResult(
                title=f"Replay dead letters: {destination.name}",
                url=f"{reverse('destinations:replay')}?{query_string}",
                kind="Dead letters",
                subtitle=f"{count_of(destination.dead_now, 'dead letter')} · "
                f"{destination.get_environment_display()}",
                group=ACTIONS,
            )
        )
    return out[:limit]
