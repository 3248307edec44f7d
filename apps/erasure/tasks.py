"""Celery tasks of erasure: a dispatcher (every minute, and right after an approval) starts
one task per due erasure task (a task that is already taken is not due: its claim moved its
next attempt past its lease, so a second start does nothing); the daily reminders."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="erasure.dispatch", queue="erasure", ignore_result=True)
def dispatch_task() -> int:
    from .propagation import due_tasks

    started = 0
    for pk in due_tasks().values_list("pk", flat=True):
        propagate_task.delay(pk)
        started += 1
    return started


@shared_task(name="erasure.propagate", queue="erasure", ignore_result=True, acks_late=True)
def propagate_task(task_id: int) -> None:
    from .propagation import propagate

    propagate(task_id)


@shared_task(name="erasure.reminders", queue="erasure", ignore_result=True)
def reminders_task() -> int:
    from .alerts import reminders

    return reminders()


@shared_task(name="erasure.purge", queue="erasure", ignore_result=True)
def purge_task() -> int:
    """Completed requests past their retention (24 months) are deleted, daily."""
    from .services import requests_purge

    return requests_purge()
