"""The registry's rules for a tool's facts: one list, read by the form, the API and the services.

Each rule looks only at the values it needs and passes over a value that is absent, so a
form or a request whose other fields failed still hears everything that can be checked in
the same answer. Problems block a save; warnings are told and do not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from apps.tools.errors import ToolsErrorCode
from martech.common.currencies import currency_problem

from .choices import IN_USE, DataCategory, ToolCapability

_ABSENT = object()


@dataclass(frozen=True)
class Problem:
    """One broken rule: the field it belongs to, a stable code and words for a person."""

    field: str
    code: ToolsErrorCode
    message: str


def _date(value) -> str:
    return f"{value:%Y-%m-%d}"


def _notice_deadline(values: Mapping[str, Any]) -> dt.date | None:
    renewal = values.get("renewal_date")
    days = values.get("notice_period_days")
    if renewal is None or days is None:
        return None
    return renewal - dt.timedelta(days=days)


def tool_problems(values: Mapping[str, Any], *, pk: int | None = None) -> list[Problem]:
    """Every rule ``values`` break, in field order; a missing value is not checked.

    ``pk`` is the tool being edited (None for a new one), so its own name is no clash.
    """
    from .models import Tool

    problems: list[Problem] = []

    def get(name):
        return values.get(name, _ABSENT)

    name = get("name")
    taken = (
        Tool.objects.filter(name__iexact=name.strip()).exclude(pk=pk).values_list("name").first()
        if isinstance(name, str) and name.strip()
        else None
    )
    if taken:
        message = f"A tool named {taken[0]} is already registered."
        problems.append(Problem("name", ToolsErrorCode.TOOL_EXISTS, message))
    capabilities = get("capabilities")
    if capabilities not in (_ABSENT, None):
        unknown = [c for c in capabilities if c not in ToolCapability.values]
        if unknown:
            problems.append(
                Problem(
                    "capabilities",
                    ToolsErrorCode.UNKNOWN_CAPABILITY,
                    f"Unknown capability: {', '.join(map(str, unknown))}.",
                )
            )
    cost = get("annual_cost")
    if cost not in (_ABSENT, None) and cost < 0:
        problems.append(
            Problem("annual_cost", ToolsErrorCode.NEGATIVE_COST, "Annual cost cannot be negative.")
        )
    currency = get("currency")
    if currency is not _ABSENT:
        message = currency_problem(currency)
        if message:
            problems.append(Problem("currency", ToolsErrorCode.CURRENCY, message))
    bought, used = get("seats_bought"), get("seats_used")
    if isinstance(bought, int) and isinstance(used, int) and used > bought:
        problems.append(
            Problem(
                "seats_used",
                ToolsErrorCode.SEATS_OVER_BOUGHT,
                f"Seats in use ({used}) can't be more than seats bought ({bought}).",
            )
        )
    start, renewal = get("contract_start"), get("renewal_date")
    if isinstance(start, dt.date) and isinstance(renewal, dt.date):
        if renewal < start:
            problems.append(
                Problem(
                    "renewal_date",
                    ToolsErrorCode.RENEWAL_BEFORE_START,
                    f"The contract renews on {_date(renewal)}, before it starts "
                    f"({_date(start)}). Check both dates.",
                )
            )
        else:
            deadline = _notice_deadline(values)
            if deadline is not None and deadline < start:
                problems.append(
                    Problem(
                        "notice_period_days",
                        ToolsErrorCode.NOTICE_BEFORE_START,
                        f"With {values['notice_period_days']} days' notice, the last day to give "
                        f"notice would be {_date(deadline)}, before the contract starts "
                        f"({_date(start)}). "
                        "Shorten the notice period or check the dates.",
                    )
                )
    categories = get("data_categories")
    if categories not in (_ABSENT, None):
        unknown = [c for c in categories if c not in DataCategory.values]
        if unknown:
            problems.append(
                Problem(
                    "data_categories",
                    ToolsErrorCode.UNKNOWN_DATA_CATEGORY,
                    f"Unknown data category: {', '.join(map(str, unknown))}.",
                )
            )
    return problems


def tool_warnings(values: Mapping[str, Any], *, today: dt.date | None = None) -> list[Problem]:
    """What is allowed but worth knowing: a renewal whose notice deadline has already passed."""
    today = today or timezone.localdate()
    warnings: list[Problem] = []
    status = values.get("status")
    renewal = values.get("renewal_date")
    deadline = _notice_deadline(values)
    in_use = status is None or status in IN_USE
    if in_use and deadline is not None and deadline < today <= renewal:
        warnings.append(
            Problem(
                "notice_period_days",
                ToolsErrorCode.NOTICE_PASSED,
                f"The last day to give notice was {_date(deadline)}: the contract renews on "
                f"{_date(renewal)} and can no longer be cancelled by notice for that date.",
            )
        )
    return warnings
