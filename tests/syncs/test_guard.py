"""Guard rails, alerts, validation and schedules of syncs."""

from __future__ import annotations

import pytest
from django.core import mail
from django_celery_beat.models import PeriodicTask

from apps.accounts.models import Notification
from apps.syncs import running, services
from apps.syncs.models import RunStatus, SyncRow
from martech.common.errors import ApplicationError, PermissionDeniedError

from .conftest import destination_for, person_with, run_now, sent_rows, sync_for

RUNNER = ("syncs.view", "syncs.run", "syncs.run_production")


@pytest.fixture
def production(admin, tool, webhook_vendor):
    return destination_for(admin, tool, webhook_vendor, environment="production")


def test_a_first_run_into_production_stops_at_a_dry_run_until_a_senior_person_approves(
    admin, model, production, webhook_vendor
):
    junior = person_with(admin, *RUNNER, tenure_days=30, name="Jo Junior")
    senior = person_with(admin, *RUNNER, tenure_days=400, name="Sid Senior")
    sync = sync_for(admin, model, production)
    # when: the new hire runs it
    run = run_now(junior, sync)
    # then: nothing is sent; the dry run says what would happen
    assert run.status == RunStatus.NEEDS_APPROVAL
    assert "first run" in run.approval_reason
    assert run.planned["added"] == 3
    assert len(run.sample) == 3
    assert webhook_vendor.requests == []
    # and the new hire cannot let it go ahead (tenure 30 days, the rule needs 90)
    with pytest.raises(PermissionDeniedError):
        services.sync_run_approve(actor=junior, run=run)
    # someone with the tenure can
    services.sync_run_approve(actor=senior, run=run)
    running.execute(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.approved_by == senior
    assert len(sent_rows(webhook_vendor)) == 3
    # a later small run goes ahead without approval
    webhook_vendor.clear()
    assert run_now(junior, sync).status == RunStatus.SUCCEEDED


def test_a_run_touching_more_rows_than_the_threshold_waits_for_approval(
    admin, model, table, production, webhook_vendor
):
    sync = sync_for(admin, model, production, row_threshold=2)
    first = run_now(admin, sync)
    services.sync_run_approve(actor=admin, run=first)
    running.execute(first.pk)
    webhook_vendor.clear()
    table.fill(3, start=10)
    run = run_now(admin, sync)
    assert run.status == RunStatus.NEEDS_APPROVAL
    assert "touch 3 rows, more than 2" in run.approval_reason
    assert webhook_vendor.requests == []
    table.execute("DELETE FROM wh_people WHERE id IN ('c10', 'c11')")
    assert run_now(admin, sync).status == RunStatus.SUCCEEDED


def test_changing_the_mode_to_mirror_needs_approval_once(admin, model, production):
    sync = sync_for(admin, model, production)
    first = run_now(admin, sync)
    services.sync_run_approve(actor=admin, run=first)
    running.execute(first.pk)
    services.sync_update(actor=admin, sync=sync, mode="mirror")
    held = run_now(admin, sync)
    assert held.status == RunStatus.NEEDS_APPROVAL
    assert "mirror" in held.approval_reason
    services.sync_run_approve(actor=admin, run=held)
    running.execute(held.pk)
    assert run_now(admin, sync).status == RunStatus.SUCCEEDED


def test_a_sandbox_sync_runs_without_approval(admin, model, tool, webhook_vendor):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    assert run_now(admin, sync).status == RunStatus.SUCCEEDED


def test_someone_without_syncs_run_cannot_start_a_run(admin, model, tool, webhook_vendor):
    viewer = person_with(admin, "syncs.view", name="Vi Viewer")
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    with pytest.raises(PermissionDeniedError):
        services.sync_run(actor=viewer, sync=sync)


def test_a_failed_run_alerts_the_owners_in_the_console_and_by_email(
    admin, model, tool, webhook_vendor, django_capture_on_commit_callbacks
):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    webhook_vendor.down = True
    with django_capture_on_commit_callbacks(execute=True):
        run = run_now(admin, sync)
    assert run.status == RunStatus.FAILED
    note = Notification.objects.get(user=admin, dedupe_key=f"syncs.run:{run.pk}:failed")
    assert "failed" in note.title
    assert "503" in note.body
    assert any(sync.name in m.subject for m in mail.outbox)


def test_a_share_of_failed_rows_above_the_threshold_alerts(
    admin, model, table, tool, webhook_vendor
):
    table.execute("UPDATE wh_people SET email = 'nope' WHERE id = 'c0'")
    sync = sync_for(
        admin, model, destination_for(admin, tool, webhook_vendor), failed_share_alert=10
    )
    run = run_now(admin, sync)
    assert run.status == RunStatus.PARTIAL
    note = Notification.objects.get(user=admin, dedupe_key=f"syncs.run:{run.pk}:invalid")
    assert "33.3% of rows failed" in note.title


def test_a_row_count_far_from_usual_alerts(admin, model, table, tool, webhook_vendor):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    for _ in range(3):
        run_now(admin, sync)
    assert not Notification.objects.filter(dedupe_key__endswith=":volume").exists()
    table.fill(10, start=100)
    run = run_now(admin, sync)
    note = Notification.objects.get(user=admin, dedupe_key=f"syncs.run:{run.pk}:volume")
    assert "13 rows, usually 3" in note.title


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"mappings": [{"from": "nope", "to": "x"}]}, "invalid_mappings", "no such column"),
        ({"mappings": [{"from": "name", "to": "$bad"}]}, "invalid_mappings", "field name"),
        (
            {"mappings": [{"from": "name", "to": "a"}, {"from": "ltv", "to": "a"}]},
            "invalid_mappings",
            "Two mappings",
        ),
        ({"subject_column": "phone"}, "invalid_subject_column", "no column 'phone'"),
        ({"object": "conversions"}, "invalid_event_name", "event name"),
        (
            {"object": "conversions", "event_name": "Won", "mode": "mirror"},
            "unsupported_mode",
            "cannot be mirrored",
        ),
        ({"object": "audiences"}, "invalid_audience_field", "Audience attribute"),
        ({"schedule": "interval", "interval_minutes": 1}, "invalid_schedule", "5 to 10,080"),
        ({"schedule": "cron", "cron": "61 * * * *"}, "invalid_schedule", "not valid"),
        ({"schedule": "cron", "cron": "daily"}, "invalid_schedule", "five fields"),
    ],
)
def test_a_sync_that_could_not_run_is_refused_with_a_clear_reason(
    admin, model, tool, webhook_vendor, changes, code, words
):
    destination = destination_for(admin, tool, webhook_vendor)
    with pytest.raises(ApplicationError) as caught:
        sync_for(admin, model, destination, **changes)
    assert caught.value.code == code
    assert words in caught.value.message


def test_mappings_are_checked_against_what_the_vendor_accepts(admin, model, tool, hubspot_vendor):
    destination = destination_for(admin, tool, hubspot_vendor)
    with pytest.raises(ApplicationError) as caught:
        sync_for(admin, model, destination, mappings=[{"from": "name", "to": "FirstName"}])
    assert "HubSpot field name" in caught.value.message
    with pytest.raises(ApplicationError) as caught:
        sync_for(admin, model, destination, subject_column="id", subject_type="user_id")
    assert "finds people by email" in caught.value.message
    assert sync_for(admin, model, destination, mappings=[{"from": "name", "to": "firstname"}])


def test_an_object_the_vendor_does_not_take_is_refused(admin, model, tool):
    from tests.destinations.vendors import FakeVendor

    with FakeVendor("meta_capi") as meta:
        destination = destination_for(admin, tool, meta, config={"pixel_id": "1234567890123"})
        with pytest.raises(ApplicationError) as caught:
            sync_for(admin, model, destination, mappings=[])
    assert caught.value.code == "unsupported_object"
    assert "does not take contacts" in caught.value.message


def test_a_schedule_becomes_a_beat_entry_that_pausing_disables(admin, model, tool, webhook_vendor):
    sync = sync_for(
        admin,
        model,
        destination_for(admin, tool, webhook_vendor),
        schedule="interval",
        interval_minutes=15,
    )
    task = PeriodicTask.objects.get(pk=sync.periodic_task_id)
    assert (task.task, task.args, task.enabled) == ("syncs.scheduled", f"[{sync.pk}]", True)
    assert (task.interval.every, task.interval.period) == (15, "minutes")
    services.sync_pause(actor=admin, sync=sync, paused=True)
    task.refresh_from_db()
    assert task.enabled is False
    sync = services.sync_update(actor=admin, sync=sync, schedule="cron", cron="0 6 * * 1-5")
    task.refresh_from_db()
    assert (task.crontab.hour, task.crontab.day_of_week, task.interval) == ("6", "1-5", None)
    services.sync_update(actor=admin, sync=sync, schedule="manual")
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_a_scheduled_run_is_skipped_while_paused_or_while_a_run_is_going(
    admin, model, tool, webhook_vendor
):
    sync = sync_for(
        admin,
        model,
        destination_for(admin, tool, webhook_vendor),
        schedule="interval",
        interval_minutes=60,
    )
    first = services.sync_run_scheduled(sync.pk)
    assert first.trigger == "schedule"
    assert services.sync_run_scheduled(sync.pk) is None  # the first is still queued
    running.execute(first.pk)
    services.sync_pause(actor=admin, sync=sync, paused=True)
    assert services.sync_run_scheduled(sync.pk) is None
    assert SyncRow.objects.filter(sync=sync).count() == 3
