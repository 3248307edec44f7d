"""Periodic work of the tool registry."""

import datetime as dt

from celery import shared_task

from .renewals import renewal_notices_send


@shared_task(name="tools.renewal_notices", queue="default")
def renewal_notices_task(as_of: str | None = None) -> int:
    """Daily: tell owners 90, 60 and 30 days before a notice deadline.

    ``as_of`` (an ISO date) runs the check for another day, for example to catch up.
    """
    return renewal_notices_send(today=dt.date.fromisoformat(as_of) if as_of else None)
