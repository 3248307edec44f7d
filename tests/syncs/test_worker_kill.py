"""Killing a real Celery worker in the middle of a sync run: the sweeper hands the run to
another worker, which sends what was not acknowledged; no row is lost, and only the request
in flight at the kill is sent twice (an idempotent upsert)."""

import datetime as dt
import signal

import pytest
from django.utils import timezone

from apps.syncs import running, services
from apps.syncs.models import RunStatus, SyncRow, SyncRun
from tests.workers import start_worker, wait_until

from .conftest import destination_for, sent_rows, sync_for

N = 700


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_loses_no_row_and_repeats_only_the_request_in_flight(
    worker_env, admin, warehouse, table, tool, webhook_vendor, settings
):
    table.fill(N)
    model = services.model_create(
        actor=admin,
        name="Everyone",
        warehouse=warehouse,
        primary_key="id",
        sql="SELECT id, email, name, ltv FROM wh_people",
    )
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    webhook_vendor.latency = 0.5
    worker_env["MARTECH_SYNC_STALE_SECONDS"] = "2"
    worker = start_worker(worker_env)
    try:
        run = services.sync_run(actor=admin, sync=sync)  # queued for the worker on commit
        wait_until(lambda: len(webhook_vendor.requests) >= 3, timeout=60, interval=0.05)
        worker.stop(signal.SIGKILL)
    finally:
        worker.stop()
    acked = SyncRow.objects.filter(sync=sync, synced_at__isnull=False).count()
    assert 0 < acked < N
    assert SyncRun.objects.get(pk=run.pk).status == RunStatus.RUNNING

    # when: the heartbeat has gone quiet, the sweeper hands the run to a new worker
    settings.SYNC_STALE_SECONDS = 2
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=10))
    webhook_vendor.latency = 0.0
    assert running.sweep() == 1
    worker = start_worker(worker_env)
    try:
        wait_until(lambda: SyncRun.objects.get(pk=run.pk).finished_at, timeout=120)
    finally:
        worker.stop()
    finished = SyncRun.objects.get(pk=run.pk)
    assert finished.status == RunStatus.SUCCEEDED, (
        finished.status,
        finished.error,
        "".join(worker.output)[-3000:],
    )
    # then: every row is acknowledged, each sent once but for the request in flight
    keys = [row["fields"]["full_name"] for row in sent_rows(webhook_vendor)]
    assert set(keys) == {f"Person {i}" for i in range(N)}
    assert len(keys) - N <= 100
    assert SyncRow.objects.filter(sync=sync, synced_at__isnull=False).count() == N
    run = SyncRun.objects.get(pk=run.pk)
    # the counts add up to the model: rows sent before the kill are not counted twice
    assert N - acked <= run.added <= N
    assert run.added + run.unchanged == N
    assert run.failed == 0
