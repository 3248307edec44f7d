"""Reads of the intake, restricted to what each person may see.

Intake deciders see every request; everyone else sees the requests they started and
those they are named on. Anything else answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from apps.access.rules import user_can
from apps.tools.selectors import CapabilityOverlap, capability_overlap
from martech.common.errors import NotFoundError
from martech.common.navigation import SearchResult

from .choices import STAGE_ORDER, Stage
from .filters import IntakeFilter
from .models import IntakeRequest


def visible_requests(user) -> QuerySet[IntakeRequest]:
    if not getattr(user, "is_authenticated", False):
        return IntakeRequest.objects.none()
    queryset = IntakeRequest.objects.select_related("requester", "tool")
    if user_can(user, "intake.decide"):
        return queryset
    return queryset.filter(Q(requester=user) | Q(stakeholders__person=user)).distinct()


def intake_list(*, user, filters: dict | None = None) -> QuerySet[IntakeRequest]:
    queryset = (
        visible_requests(user)
        .annotate(stakeholder_count=Count("stakeholders", distinct=True))
        .order_by("-created_at", "-id")
    )
    return IntakeFilter(filters or {}, queryset=queryset).qs


def intake_get(*, user, pk: int) -> IntakeRequest:
    request = visible_requests(user).filter(pk=pk).first()
    if request is None:
        raise NotFoundError("No such intake request.")
    return request


@dataclass
class BoardColumn:
    stage: str
    label: str
    requests: list[IntakeRequest]
    total: int


def intake_board(*, user, filters: dict | None = None, per_column: int = 30) -> list[BoardColumn]:
    """Open requests by stage, and the most recently closed ones."""
    queryset = intake_list(user=user, filters=filters)
    columns = []
    for stage in STAGE_ORDER:
        in_stage = queryset.filter(stage=stage)
        ordering = ("-decided_at", "-id") if stage == Stage.CLOSED else ("stage_entered_at", "id")
        columns.append(
            BoardColumn(
                stage,
                Stage(stage).label,
                list(in_stage.order_by(*ordering)[:per_column]),
                in_stage.count(),
            )
        )
    return columns


def intake_overlap(*, user, request: IntakeRequest) -> list[CapabilityOverlap]:
    """The registry's tools in use that already do what the request proposes."""
    return capability_overlap(
        user=user, capabilities=request.proposed_capabilities, exclude=request.tool_id
    )


def intake_palette_search(*, user, query: str, limit: int) -> list[SearchResult]:
    return [
        SearchResult(
            request.title,
            reverse("intake:request_detail", args=[request.pk]),
            "Intake request",
            f"#{request.pk} · {request.get_stage_display()}",
        )
        for request in visible_requests(user).filter(title__icontains=query).order_by("-id")[:limit]
    ]
