"""One date format for erasure pages, the evidence report and its CSV: days as 2026-10-29,
times to the minute with their zone, 2026-10-29 16:39 UTC."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import dateformat, timezone

register = template.Library()

DAY = "Y-m-d"
MOMENT = "Y-m-d H:i T"


@register.filter
def moment(value) -> str:
    """A time (or its ISO text, as the task evidence keeps it) in the current time zone."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, MOMENT)


@register.filter
def day(value) -> str:
    """A date, or the local date of a time."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, dt.date):
        return ""
    return dateformat.format(value, DAY)
