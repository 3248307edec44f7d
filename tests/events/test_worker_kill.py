"""Killing a real Celery worker in the middle of a batch loses no event and does nothing twice."""

import signal

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from apps.consent.defaults import ensure_default_purposes
from apps.events.models import Event
from apps.events.pipeline import BATCH
from apps.events.services import source_create
from apps.events.tasks import process_events_task, sweep_events_task
from apps.identity.models import Link
from tests.factories import AdminFactory
from tests.workers import start_worker, wait_until

N = 2 * BATCH + BATCH // 2  # two whole batches and a half one


def _held_by_a_worker() -> int:
    """Waiting events some transaction holds right now (SKIP LOCKED does not see them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM events_event WHERE status = 'received') - "
            "(SELECT count(*) FROM (SELECT id FROM events_event WHERE status = 'received' "
            "FOR UPDATE SKIP LOCKED) free)"
        )
        return cursor.fetchone()[0]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_no_event_and_repeats_none(worker_env):
    # given: accepted events, each joining a cookie to a user id
    ensure_default_purposes()
    source, _ = source_create(actor=AdminFactory(), name="Web")
    now = timezone.now()
    Event.objects.bulk_create(
        Event(
            source=source,
            message_id=f"m-{i}",
            type="identify",
            anonymous_id=f"ajs-{i}",
            user_id=f"u-{i}",
            payload={"type": "identify"},
            timestamp=now,
            received_at=now,
        )
        for i in range(N)
    )
    process_events_task.delay()

    # when: the worker is killed (SIGKILL) while it holds a batch
    worker = start_worker(worker_env)
    try:
        wait_until(_held_by_a_worker, timeout=60, interval=0.02)
        worker.stop(signal.SIGKILL)
    finally:
        worker.stop()
    statuses = dict(
        Event.objects.values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    # then: every event is either fully processed or still waiting, none half-done
    assert sum(statuses.values()) == N
    assert set(statuses) <= {"processed", "received"}
    assert statuses.get("received", 0) > 0
    assert statuses.get("processed", 0) % BATCH == 0  # whole batches only

    # and the sweeper, on a new worker, finishes the job exactly once
    sweep_events_task.delay()
    worker = start_worker(worker_env)
    try:
        wait_until(lambda: not Event.objects.filter(status="received").exists(), timeout=120)
    finally:
        worker.stop()
    assert Event.objects.filter(status="processed").count() == N
    assert set(Event.objects.values_list("attempts", flat=True)) == {1}
    assert Link.objects.count() == N
