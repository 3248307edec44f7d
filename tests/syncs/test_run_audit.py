"""How a worker's run ends is audited on the sync, as the worker: succeeded, partial, failed
and a dry run's plan."""

from __future__ import annotations

from apps.audit.models import AuditEvent
from apps.syncs import services
from apps.syncs.models import RunStatus
from apps.syncs.tasks import run_task
from tests.destinations.vendors import INVALID_EMAIL_SUFFIX

from .conftest import destination_for, sync_for


def _run_in_task(actor, sync, **kwargs):
    """Request a run and carry it out through its Celery task (here, in this process)."""
    run = services.sync_run(actor=actor, sync=sync, **kwargs)
    run_task.apply(args=[run.pk])
    run.refresh_from_db()
    return run


OUTCOMES = ["syncs.run.succeeded", "syncs.run.partial", "syncs.run.failed", "syncs.run.planned"]


def _outcomes(sync):
    return list(
        AuditEvent.objects.filter(action__in=OUTCOMES, target_id=str(sync.pk)).order_by("id")
    )


def test_a_successful_run_is_audited_by_the_worker_with_its_counts(
    admin, model, tool, webhook_vendor
):
    # given a sync
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    # when a worker carries out a run
    run = _run_in_task(admin, sync)
    # then its outcome is audited on the sync by the worker, with the counts
    assert run.status == RunStatus.SUCCEEDED, run.error
    (audit,) = _outcomes(sync)
    assert audit.action == "syncs.run.succeeded"
    assert audit.actor is None
    assert audit.actor_label == "task:syncs.run"
    assert (audit.metadata["run"], audit.metadata["added"]) == (run.pk, 3)


def test_partial_and_failed_runs_are_audited_with_their_outcome(
    admin, model, table, tool, hubspot_vendor, webhook_vendor
):
    # given a row the vendor refuses, and a vendor that is down
    table.execute(
        "UPDATE wh_people SET email = %s WHERE id = 'c1'", [f"broken{INVALID_EMAIL_SUFFIX}"]
    )
    partial_sync = sync_for(admin, model, destination_for(admin, tool, hubspot_vendor))
    failing_sync = sync_for(
        admin, model, destination_for(admin, tool, webhook_vendor), name="People to hook"
    )
    webhook_vendor.down = True
    # when workers carry out a run of each
    partial = _run_in_task(admin, partial_sync)
    failed = _run_in_task(admin, failing_sync)
    # then each outcome is audited
    assert (partial.status, failed.status) == (RunStatus.PARTIAL, RunStatus.FAILED)
    assert [a.action for a in _outcomes(partial_sync)] == ["syncs.run.partial"]
    assert _outcomes(partial_sync)[0].metadata["failed"] == 1
    (audit,) = _outcomes(failing_sync)
    assert audit.action == "syncs.run.failed"
    assert audit.metadata["run"] == failed.pk
    assert "kept failing" in audit.metadata["error"]
    assert audit.actor_label == "task:syncs.run"


def test_a_dry_run_is_audited_as_planned(admin, model, tool, webhook_vendor):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    run = _run_in_task(admin, sync, dry_run=True)
    assert run.status == RunStatus.PLANNED
    assert [a.action for a in _outcomes(sync)] == ["syncs.run.planned"]
    assert _outcomes(sync)[0].metadata["added"] == 3
