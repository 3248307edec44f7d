"""Celery tasks: a dispatcher (every 15 seconds and after routing) starts one delivery task
per destination with due deliveries; a destination never has two at once."""

from __future__ import annotations

import time

from celery import shared_task
from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .choices import UNFINISHED
from .models import Delivery, Destination

LOCK_SECONDS = 120


def _lock(pk: int) -> str:
    return f"destinations:deliver:{pk}"


_last_kick = 0.0


def kick() -> None:
    """Ask for a dispatch now (at most one request a second in all, and this process asks the
    cache at most once a second); the beat does it anyway."""
    global _last_kick
    now = time.monotonic()
    if now - _last_kick < 1:
        return
    _last_kick = now
    if cache.add("destinations:kick", 1, timeout=1):
        try:
            dispatch_task.delay()
        except Exception:  # the deliveries are stored; the beat picks them up
            import logging

            logging.getLogger(__name__).warning("could not ask for a dispatch", exc_info=True)


@shared_task(name="destinations.dispatch", queue="deliveries", ignore_result=True)
def dispatch_task() -> int:
    due = Delivery.objects.filter(
        destination=OuterRef("pk"), status__in=UNFINISHED, next_attempt_at__lte=timezone.now()
    )
    started = 0
    for pk in Destination.objects.filter(Exists(due), is_enabled=True).values_list("pk", flat=True):
        if cache.add(_lock(pk), 1, timeout=LOCK_SECONDS):
            deliver_task.delay(pk)
            started += 1
    return started


@shared_task(name="destinations.deliver", queue="deliveries", ignore_result=True, acks_late=True)
def deliver_task(destination_id: int) -> None:
    from .delivery import deliver

    try:
        destination = Destination.objects.filter(pk=destination_id).first()
        if destination is not None:
            deliver(destination)
    finally:
        cache.delete(_lock(destination_id))
