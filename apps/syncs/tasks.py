"""Celery tasks of reverse ETL: a run, a scheduled run (from django-celery-beat), and the
sweeper that hands runs of a stopped worker to another."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="syncs.run", queue="syncs", ignore_result=True, acks_late=True)
def run_task(run_id: int) -> None:
    from .running import execute

    execute(run_id)


@shared_task(name="syncs.scheduled", queue="syncs", ignore_result=True)
def scheduled_task(sync_id: int) -> None:
    from .services import sync_run_scheduled

    sync_run_scheduled(sync_id)


@shared_task(name="syncs.sweep", queue="syncs", ignore_result=True)
def sweep_task() -> int:
    from .running import sweep

    return sweep()
