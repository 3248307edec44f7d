"""The architecture advisor: which data-layer pattern fits, and why.

The rules follow the decision matrices in the product's background reading: MAU and
destinations decide between a CDP and warehouse + reverse ETL, event volume and real-time
needs call for an event bus, regulatory and multi-region constraints make a hybrid
unavoidable, and too little engineering capacity rules out what a team cannot run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .choices import IN_USE
from .models import Tool

POINT_TO_POINT = "point_to_point"
CDP = "cdp"
WAREHOUSE = "warehouse_reverse_etl"
EVENT_BUS = "event_bus"
HYBRID = "hybrid"

PATTERNS = {
    POINT_TO_POINT: "Point-to-point integrations",
    CDP: "Customer data platform (CDP)",
    WAREHOUSE: "Warehouse + reverse ETL",
    EVENT_BUS: "Event bus",
    HYBRID: "Hybrid: warehouse at the centre, thin CDP for real-time channels",
}


@dataclass(frozen=True)
class Situation:
    monthly_active_users: int
    events_per_month: int
    destinations: int
    engineers: int  # people who can run data infrastructure
    real_time: bool
    regulated_multi_region: bool


@dataclass
class Advice:
    pattern: str
    label: str
    reasons: list[str]
    current_pattern: str
    current_label: str
    current_tools: list[str] = field(default_factory=list)

    @property
    def matches_today(self) -> bool:
        return self.pattern == self.current_pattern


def recommend(s: Situation) -> tuple[str, list[str]]:
    """Return the recommended pattern and the reasons, first matching rule first."""
    if s.regulated_multi_region:
        return HYBRID, [
            "Regulatory boundaries with multi-region operation make a hybrid unavoidable: "
            "keep the source of truth in a warehouse you control per region, and use a thin "
            "CDP only for the channels that need real-time activation.",
        ]
    if s.events_per_month >= 50_000_000 and s.real_time and s.engineers >= 3:
        return EVENT_BUS, [
            "Over 50M events a month with real-time activation needs an event bus: publish "
            "once, let every consumer read at its own pace.",
            "A dedicated data team can run it; pair it with a CDP for identity resolution and "
            "a warehouse for analysis.",
        ]
    if s.engineers == 0:
        if s.real_time or s.destinations >= 3:
            return CDP, [
                "With no engineering capacity for data infrastructure, a CDP gives identity "
                "resolution, destinations and consent out of the box.",
                "Watch the MTU-based pricing as you grow.",
            ]
        return POINT_TO_POINT, [
            "With no engineering capacity and few destinations, native point-to-point "
            "integrations are enough for now; invest in the event taxonomy and identity at "
            "authentication time.",
            "Revisit once you pass about eight tools or see attribution drift between them.",
        ]
    if s.monthly_active_users < 50_000 and s.destinations <= 2:
        return WAREHOUSE, [
            "Under 50K MAU with one or two main channels, a warehouse with reverse ETL covers "
            "activation; no CDP is needed.",
            "A CDP at this size typically costs three to four times a warehouse set-up a year "
            "later.",
        ]
    if s.real_time and s.engineers <= 1:
        return CDP, [
            "Real-time activation with thin engineering favours a CDP: the real-time pipeline, "
            "identity and destinations come out of the box.",
        ]
    if 50_000 <= s.monthly_active_users < 150_000 and 3 <= s.destinations <= 5 and s.engineers <= 1:
        return CDP, [
            "50K to 150K MAU with three to five destinations and a small engineering team: a "
            "CDP is the faster path.",
        ]
    if s.engineers >= 2 or (s.monthly_active_users >= 150_000 and s.destinations >= 6):
        reasons = [
            "With engineering capacity to run a warehouse, dbt and reverse ETL, the warehouse "
            "becomes the single source of truth that analytics and activation share.",
        ]
        if s.monthly_active_users >= 150_000 and s.destinations >= 6:
            reasons.append(
                "At 150K+ MAU and six or more destinations it is more flexible and cheaper "
                "than a CDP."
            )
        if s.real_time:
            reasons.append(
                "Real-time triggers need extra work on top of batch syncs; add a thin "
                "streaming path for the few channels that need seconds."
            )
        return WAREHOUSE, reasons
    return CDP, [
        "With one engineer and several destinations, a CDP keeps destinations, identity and "
        "consent manageable without building infrastructure.",
    ]


def current_pattern() -> tuple[str, list[str]]:
    """What the registry shows the company runs today, and the tools that show it."""
    in_use = list(Tool.objects.filter(status__in=IN_USE).order_by("name"))

    def having(capability):
        return [t.name for t in in_use if capability in (t.capabilities or [])]

    cdp, warehouse, reverse = having("event_collection"), having("warehouse"), having("reverse_etl")
    if warehouse and reverse and cdp:
        return HYBRID, sorted(set(cdp + warehouse + reverse))
    if warehouse and reverse:
        return WAREHOUSE, sorted(set(warehouse + reverse))
    if cdp:
        return CDP, cdp
    return POINT_TO_POINT, []


def advise(situation: Situation) -> Advice:
    pattern, reasons = recommend(situation)
    today, tools = current_pattern()
    return Advice(pattern, PATTERNS[pattern], reasons, today, PATTERNS[today], tools)
