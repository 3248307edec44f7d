"""Renewals: the calendar, and notices to owners before each notice deadline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from apps.access.rules import require
from apps.accounts.notifications import notify

from .choices import IN_USE
from .models import Tool

NOTICE_DAYS = (90, 60, 30)


@dataclass
class RenewalEntry:
    tool: Tool
    notice_deadline: dt.date
    renewal_date: dt.date
    days_to_notice: int


def renewal_calendar(*, user, today: dt.date | None = None, months: int = 12) -> list[RenewalEntry]:
    """Tools in use that renew in the next ``months``, by notice deadline."""
    require(user, "tools.view", "see renewals")
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=31 * months)
    entries = []
    tools = Tool.objects.filter(status__in=IN_USE, renewal_date__isnull=False).select_related(
        "business_owner"
    )
    for tool in tools:
        if tool.renewal_date < today or tool.renewal_date > horizon:
            continue
        deadline = tool.notice_deadline
        entries.append(RenewalEntry(tool, deadline, tool.renewal_date, (deadline - today).days))
    return sorted(entries, key=lambda e: e.notice_deadline)


def _threshold(days_left: int) -> int | None:
    """The notice a tool is due: the smallest of 90/60/30 it is within (None if none)."""
    due = [t for t in NOTICE_DAYS if 0 <= days_left <= t]
    return min(due) if due else None


def renewal_notices_send(*, today: dt.date | None = None) -> int:
    """Notify each tool's owners 90, 60 and 30 days before its notice deadline (once each).

    A run that was missed catches up on the next day with the notice then due.
    """
    today = today or timezone.localdate()
    sent = 0
    tools = Tool.objects.filter(status__in=IN_USE, renewal_date__isnull=False).select_related(
        "business_owner", "technical_owner"
    )
    for tool in tools:
        deadline = tool.notice_deadline
        days_left = (deadline - today).days
        threshold = _threshold(days_left)
        if threshold is None:
            continue
        seats = (
            f" Seats: {tool.seats_used or 0} of {tool.seats_bought} used "
            f"({tool.seat_utilisation:.0f}%)."
            if tool.seat_utilisation is not None
            else ""
        )
        title = f"{tool.name}: give notice by {deadline:%Y-%m-%d} ({days_left} days)"
        body = (
            f"{tool.name} renews on {tool.renewal_date:%Y-%m-%d} "
            f"({'automatically' if tool.auto_renew else 'only if renewed'}) for "
            f"{tool.annual_cost:,.0f} {tool.currency} a year. To cancel or renegotiate, give "
            f"notice by {deadline:%Y-%m-%d}.{seats}"
        )
        owners = {o.pk: o for o in (tool.business_owner, tool.technical_owner) if o is not None}
        for owner in owners.values():
            key = f"tools.renewal:{tool.pk}:{deadline:%Y-%m-%d}:{threshold}"
            if notify(
                user=owner,
                title=title,
                body=body,
                url=reverse("tools:tool_detail", args=[tool.pk]),
                dedupe_key=key,
            ):
                sent += 1
    return sent
