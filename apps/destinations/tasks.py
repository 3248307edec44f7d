"""Celery tasks: a dispatcher (every 15 seconds and after routing) starts one delivery task
per destination with due deliveries; a destination never has two at once."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.utils import timezone

from martech.common import sharedcache

from .choices import UNFINISHED
from .models import Delivery, Destination

LOCK_SECONDS = 120


def _lock(pk: int) -> str:
    return f"destinations:deliver:{pk}"


# Asks for a dispatch after routing (the beat dispatches every 15 seconds anyway).
kick = sharedcache.Nudge("destinations:kick", lambda: dispatch_task.delay())


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


@shared_task(name="destinations.load_warehouses", queue="deliveries", ignore_result=True)
def load_warehouses_task() -> int:
    """Start a load of every enabled warehouse destination whose turn it is."""
    from .warehouse.loader import due

    started = 0
    for destination in Destination.objects.filter(adapter="warehouse", is_enabled=True):
        if due(destination):
            load_warehouse_task.delay(destination.pk)
            started += 1
    return started


@shared_task(
    name="destinations.load_warehouse", queue="deliveries", ignore_result=True, acks_late=True
)
def load_warehouse_task(destination_id: int) -> None:
    """Load one warehouse destination (nothing when it is disabled, gone, or already being
    loaded), then publish its tables (``deleted_users``, ``identity_graph``, ``profiles``)."""
    from .models import LoadStatus
    from .warehouse.loader import load
    from .warehouse.publish import publish

    destination = Destination.objects.filter(
        pk=destination_id, adapter="warehouse", is_enabled=True
    ).first()
    if destination is None:
        return
    record = load(destination)
    if record is not None and record.status == LoadStatus.LOADED:
        publish(destination)  # the published tables, on the loads' schedule
