"""Killing a real Celery worker while it waits for a vendor's answer to an erasure: the task
is claimed again when its lease runs out and the request still completes; the only call made
twice is the deletion that was in flight (erasing an erased person changes nothing)."""

import signal

import pytest
from django.utils import timezone

from apps.erasure import services
from apps.erasure.models import ErasureTask, RequestStatus, TaskStatus
from apps.erasure.tasks import dispatch_task
from apps.identity.services import link_record
from tests.destinations.vendors import FakeVendor
from tests.workers import start_worker, wait_until

from .conftest import destination_at, verified


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_erasure_still_ends_in_a_complete_request(worker_env, admin, tool):
    link_record(a=("user_id", "cus_2"), b=("email", "bo@acme.example"), rule="identify")
    with FakeVendor("webhook") as hook:
        destination_at(admin, tool, hook)
        hook.latency = 3.0
        worker = start_worker(worker_env)
        try:
            asked = verified(admin, "email:bo@acme.example")
            request = services.request_approve(actor=admin, request=asked)
            wait_until(lambda: len(hook.requests) >= 1, timeout=60, interval=0.05)
            worker.stop(signal.SIGKILL)
        finally:
            worker.stop()
        task = ErasureTask.objects.get(request=request)
        assert task.status == TaskStatus.IN_PROGRESS  # claimed, never answered

        # when: its lease has run out, the dispatcher hands it to a new worker
        ErasureTask.objects.filter(pk=task.pk).update(next_attempt_at=timezone.now())
        hook.latency = 0.0
        worker = start_worker(worker_env)
        try:
            dispatch_task.delay()
            wait_until(
                lambda: ErasureTask.objects.get(pk=task.pk).status == TaskStatus.DONE, timeout=60
            )
        finally:
            worker.stop()
        calls = [r for r in hook.requests if r.path == "/hooks/martech/erasure"]
    task.refresh_from_db()
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert len(calls) == 2
    assert task.attempts == 2
    assert calls[0].body == calls[1].body
