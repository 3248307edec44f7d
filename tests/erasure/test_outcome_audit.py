"""What a worker concludes for an erasure task is audited on the request, as the worker: done
with the vendor's receipt, failed when the vendor refuses or retries run out."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.erasure import services
from apps.erasure.models import TaskStatus
from apps.erasure.propagation import due_tasks
from apps.erasure.tasks import propagate_task
from tests.destinations.vendors import FakeVendor

from .conftest import destination_at, verified


def _run_due_in_tasks() -> None:
    """What the dispatcher does: each due task through its Celery task (in this process)."""
    for pk in list(due_tasks().values_list("pk", flat=True)):
        propagate_task.apply(args=[pk])


def _approved(admin):
    request = services.request_approve(actor=admin, request=verified(admin))
    for maybe in request.identifiers.filter(decision="pending"):
        services.identifier_decide(actor=admin, identifier=maybe, include=False)
    return request


def _task_audits(request):
    return list(
        AuditEvent.objects.filter(
            action__in=["erasure.task.done", "erasure.task.failed", "erasure.task.not_applicable"],
            target_id=str(request.pk),
        ).order_by("id")
    )


def test_done_and_refused_tasks_are_audited_by_the_worker(admin, ana, tool):
    # given two destinations, one of which refuses the deletion
    with FakeVendor("webhook") as hook, FakeVendor("hubspot") as hubspot:
        destination_at(admin, tool, hook)
        destination_at(admin, tool, hubspot)
        hook.fail_next(1, 400, {"error": "unknown subject format"})
        request = _approved(admin)
        # when the workers carry out the tasks
        _run_due_in_tasks()
    # then each outcome is audited on the request by the worker, naming the task
    audits = {a.metadata["task"]: a for a in _task_audits(request)}
    assert set(audits) == {"webhook sink", "hubspot sink"}
    done, failed = audits["hubspot sink"], audits["webhook sink"]
    assert (done.action, failed.action) == ("erasure.task.done", "erasure.task.failed")
    assert {done.actor_label, failed.actor_label} == {"task:erasure.propagate"}
    assert done.actor is None
    assert done.metadata["task_id"] == request.tasks.get(name="hubspot sink").pk
    assert failed.metadata["error"]
    assert "ana@acme.example" not in str([a.metadata for a in audits.values()])


def test_a_task_whose_retries_run_out_is_audited_as_failed(admin, ana, tool, settings):
    # given a vendor that stays down longer than the retry window
    settings.ERASURE_RETRY_DAYS = 1
    with FakeVendor("webhook") as hook:
        destination_at(admin, tool, hook)
        hook.down = True
        request = _approved(admin)
        _run_due_in_tasks()
        assert _task_audits(request) == []  # a retry is not an outcome
        # when the workers keep trying past the window
        start = timezone.now()
        for hours in (12, 30, 60):
            with time_machine.travel(start + dt.timedelta(hours=hours)):
                _run_due_in_tasks()
    # then the failure is audited once
    assert request.tasks.get().status == TaskStatus.FAILED
    (audit,) = _task_audits(request)
    assert audit.action == "erasure.task.failed"
    assert audit.metadata["error"].startswith("Still failing after 1 days")
