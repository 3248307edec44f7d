"""What a new version would have done to real traffic: how many events fail it, by source.

The events are checked exactly as the pipeline's gate checks them (``validate.check``): an
undeclared property, a missing required one, a wrong type or an out-of-range value each make
the event fail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .validate import CompiledPlan, check, compile_event


@dataclass(frozen=True)
class SourceImpact:
    source: str
    checked: int
    failed: int

    def as_dict(self) -> dict:
        return {"source": self.source, "checked": self.checked, "failed": self.failed}


@dataclass(frozen=True)
class Impact:
    checked: int = 0
    failed: int = 0
    sources: tuple[SourceImpact, ...] = field(default_factory=tuple)


def count_failures(
    *, event_name: str, json_schema: dict, personal: Iterable[str], samples
) -> Impact:
    """Check each ``(source name, properties)`` of ``samples`` against ``json_schema``."""
    compiled = CompiledPlan(None, 0, {event_name: compile_event(0, "new", json_schema, personal)})
    checked: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for source, properties in samples:
        checked[source] += 1
        if check(compiled, event_name, properties):
            failed[source] += 1
    sources = tuple(
        SourceImpact(name, checked[name], failed[name])
        for name in sorted(checked, key=lambda n: (-failed[n], -checked[n], n))
    )
    return Impact(sum(checked.values()), sum(failed.values()), sources)
