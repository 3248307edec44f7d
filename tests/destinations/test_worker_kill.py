"""Killing a real Celery worker while it waits for a vendor loses no delivery: the batch in
flight stays due and is sent again (vendors deduplicate on the message id), nothing else."""

import signal

import pytest
from django.utils import timezone

from apps.consent.defaults import ensure_default_purposes
from apps.destinations.models import Delivery
from apps.destinations.tasks import deliver_task
from apps.events.models import Event
from apps.events.pipeline import process_waiting
from apps.events.services import source_create
from apps.tools.services import tool_create
from tests.factories import AdminFactory
from tests.workers import start_worker, wait_until

from .conftest import hook
from .vendors import FakeVendor

N = 250


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_a_vendor_answers_loses_no_delivery(worker_env):
    ensure_default_purposes()
    admin = AdminFactory()
    tool = tool_create(actor=admin, name="Hooks", vendor="Acme", category="Automation")
    source, _ = source_create(actor=admin, name="Web")
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        now = timezone.now()
        Event.objects.bulk_create(
            Event(
                source=source,
                message_id=f"m-{i}",
                type="track",
                name="Order Completed",
                anonymous_id=f"ajs-{i}",
                payload={"type": "track", "event": "Order Completed", "messageId": f"m-{i}"},
                timestamp=now,
                received_at=now,
            )
            for i in range(N)
        )
        process_waiting()
        assert Delivery.objects.filter(status="pending").count() == N

        # when: the worker is killed while the vendor takes its time over the first batch
        vendor.latency = 3.0
        deliver_task.delay(destination.pk)
        worker = start_worker(worker_env)
        try:
            wait_until(lambda: len(vendor.requests) >= 1, timeout=60, interval=0.05)
            worker.stop(signal.SIGKILL)
        finally:
            worker.stop()
        # then: nothing is lost or half-recorded; the batch in flight is still due
        assert Delivery.objects.filter(status="pending").count() == N
        assert Delivery.objects.filter(attempts__gt=0).count() == 0

        # and a new worker delivers everything, repeating only the batch it never recorded
        vendor.latency = 0.0
        deliver_task.delay(destination.pk)
        worker = start_worker(worker_env)
        try:
            wait_until(lambda: not Delivery.objects.filter(status="pending").exists(), timeout=120)
        finally:
            worker.stop()
        sent = [m["messageId"] for r in vendor.requests for m in r.body["batch"]]
    assert Delivery.objects.filter(status="delivered").count() == N
    assert set(sent) == {f"m-{i}" for i in range(N)}
    assert len(sent) - N == 100  # the one batch in flight, sent twice
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
