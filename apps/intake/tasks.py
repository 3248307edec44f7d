"""Periodic work of the intake."""

import datetime as dt

from celery import shared_task

from .services import revisit_reminders_send


@shared_task(name="intake.revisit_reminders", queue="default")
def revisit_reminders_task(as_of: str | None = None) -> int:
    """Daily: remind people of deferred requests whose revisit date has come.

    ``as_of`` (an ISO date) runs the check for another day, for example to catch up.
    """
    return revisit_reminders_send(today=dt.date.fromisoformat(as_of) if as_of else None)
