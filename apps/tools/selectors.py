"""Reads of the tool registry, restricted by the tools.view capability."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.urls import reverse

from apps.access.rules import require, require_to_see, user_can
from martech.common.errors import NotFoundError
from martech.common.navigation import SearchResult

from .choices import IN_USE, ToolCapability, ToolStatus
from .filters import ToolFilter
from .models import Tool


def tool_list(*, user, filters: dict | None = None) -> QuerySet[Tool]:
    require(user, "tools.view", "see the tool registry")
    queryset = Tool.objects.select_related("business_owner", "technical_owner").order_by("name")
    return ToolFilter(filters or {}, queryset=queryset).qs


def tool_get(*, user, pk: int) -> Tool:
    require_to_see(user, "tools.view", "No such tool.")
    tool = Tool.objects.select_related("business_owner", "technical_owner").filter(pk=pk).first()
    if tool is None:
        raise NotFoundError("No such tool.")
    return tool


def tool_palette_search(*, user, query: str, limit: int) -> list[SearchResult]:
    if not user_can(user, "tools.view"):
        return []
    return [
        SearchResult(tool.name, reverse("tools:tool_detail", args=[tool.pk]), "Tool", tool.vendor)
        for tool in Tool.objects.filter(name__icontains=query).order_by("name")[:limit]
    ]


@dataclass
class OverlapGroup:
    capability: str
    label: str
    tools: list[Tool]
    annual_cost: dict[str, Decimal] = field(default_factory=dict)  # per currency
    seats_bought: int = 0
    seats_used: int = 0
    keep: Tool | None = None
    suggestion: str = ""

    @property
    def seat_utilisation(self) -> float | None:
        if not self.seats_bought:
            return None
        return round(100 * self.seats_used / self.seats_bought, 1)


def _keep_candidate(tools: list[Tool]) -> Tool:
    """The tool to keep as the source of truth: active first, then best seat use, then the
    one that does the most, then the cheapest."""

    def rank(tool: Tool):
        return (
            tool.status != ToolStatus.ACTIVE,
            -(tool.seat_utilisation or 0),
            -len(tool.capabilities or []),
            tool.annual_cost,
        )

    return sorted(tools, key=rank)[0]


def redundancy_report(*, user) -> list[OverlapGroup]:
    """Group the tools in use by shared capability, with cost, seats and a suggestion."""
    require(user, "tools.view", "see the tool registry")
    by_capability: dict[str, list[Tool]] = defaultdict(list)
    for tool in Tool.objects.filter(status__in=IN_USE).order_by("name"):
        for capability in tool.capabilities or []:
            by_capability[capability].append(tool)
    labels = dict(ToolCapability.choices)
    groups = []
    for capability, tools in by_capability.items():
        if len(tools) < 2:
            continue
        group = OverlapGroup(capability, labels.get(capability, capability), tools)
        for tool in tools:
            group.annual_cost[tool.currency] = (
                group.annual_cost.get(tool.currency, Decimal("0")) + tool.annual_cost
            )
            group.seats_bought += tool.seats_bought or 0
            group.seats_used += tool.seats_used or 0
        group.keep = _keep_candidate(tools)
        others = ", ".join(t.name for t in tools if t.pk != group.keep.pk)
        group.suggestion = (
            f"Keep {group.keep.name} as the source of truth for {group.label.lower()}; "
            f"review whether {others} still need{'s' if len(tools) == 2 else ''} to do it."
        )
        groups.append(group)
    return sorted(groups, key=lambda g: (-len(g.tools), -sum(g.annual_cost.values())))


@dataclass
class CapabilityOverlap:
    """The tools in use that already do one capability, for a proposal that asks for it."""

    capability: str
    label: str
    tools: list[Tool]
    annual_cost: dict[str, Decimal] | None  # per currency; None if the viewer may not see cost

    @property
    def sentence(self) -> str:
        count = len(self.tools)
        noun = "tool" if count == 1 else "tools"
        label = self.label if self.label[1:2].isupper() else self.label[0].lower() + self.label[1:]
        return f"You already pay for {count} {noun} with {label}"


def capability_overlap(
    *, user, capabilities: list[str], exclude: int | None = None
) -> list[CapabilityOverlap]:
    """For each proposed capability, the registry's tools in use that already have it.

    Tool names are shown to anyone who can see the proposal; costs only to those who can
    see the registry. ``exclude`` leaves out one tool (the one the proposal brought in).
    """
    show_cost = user_can(user, "tools.view")
    wanted = [c for c in dict.fromkeys(capabilities or []) if c in ToolCapability.values]
    if not wanted:
        return []
    labels = dict(ToolCapability.choices)
    found: dict[str, list[Tool]] = {c: [] for c in wanted}
    for tool in Tool.objects.filter(status__in=IN_USE).exclude(pk=exclude).order_by("name"):
        for capability in tool.capabilities or []:
            if capability in found:
                found[capability].append(tool)
    overlaps = []
    for capability, tools in found.items():
        if not tools:
            continue
        cost = None
        if show_cost:
            cost = {}
            for tool in tools:
                cost[tool.currency] = cost.get(tool.currency, Decimal("0")) + tool.annual_cost
        overlaps.append(CapabilityOverlap(capability, labels[capability], tools, cost))
    return overlaps


def tool_by_name(name: str) -> Tool | None:
    """The registered tool of this name (any case), for linking a proposal to the registry."""
    return Tool.objects.filter(name__iexact=name.strip()).first()
