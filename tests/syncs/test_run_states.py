"""A run's page tells the truth: a held run lists the rows behind its counts and shows that
nothing was sent yet; a mode's skips are listed; a finished run replaces its live progress."""

from __future__ import annotations

from apps.syncs import running, services
from apps.syncs.models import RowOutcome, RunStatus

from .conftest import destination_for, run_now, sync_for


def test_a_held_run_lists_the_rows_its_counts_name_and_the_run_keeps_only_its_own(
    admin, model, tool, webhook_vendor
):
    production = destination_for(
        admin, tool, webhook_vendor, environment="production", purposes=["email_marketing"]
    )
    sync = sync_for(admin, model, production)
    run = run_now(admin, sync)
    assert run.status == RunStatus.NEEDS_APPROVAL
    held = run.row_results.filter(outcome=RowOutcome.SKIPPED_CONSENT)
    assert run.planned["skipped_consent"] == held.count() == 3
    services.sync_run_approve(actor=admin, run=run)
    running.execute(run.pk)
    run.refresh_from_db()
    assert run.skipped_consent == 3
    assert run.row_results.count() == 3  # the plan's rows gave way to the run's


def test_the_held_run_page_shows_nothing_sent_and_waiting_for_approval(
    admin, admin_client, model, tool, webhook_vendor
):
    production = destination_for(admin, tool, webhook_vendor, environment="production")
    run = run_now(admin, sync_for(admin, model, production))
    html = admin_client.get(f"/runs/{run.pk}/").content.decode()
    progress = html.split('data-testid="run-progress"', 1)[1].split("</progress>", 1)[0]
    assert "0 of 3 rows sent (0%)" in progress
    assert 'value="0"' in progress
    assert "waiting for approval" in progress
    assert "finished" not in progress
    assert "(production) (production)" not in html


def test_rows_a_mode_does_not_send_are_listed_with_the_reason(
    admin, model, table, tool, webhook_vendor
):
    sandbox = destination_for(admin, tool, webhook_vendor)
    sync = sync_for(admin, model, sandbox, mode="insert")
    run_now(admin, sync)
    table.execute("UPDATE wh_people SET name = name || ' Jr' WHERE id = 'c1'")
    run = run_now(admin, sync)
    skipped = list(run.row_results.values_list("key", "outcome"))
    assert run.skipped_mode == 1
    assert skipped == [("c1", RowOutcome.SKIPPED_MODE)]


def test_polling_a_run_that_ended_reloads_the_page_once(
    admin, admin_client, model, tool, webhook_vendor
):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    run = run_now(admin, sync, dry_run=True)
    assert run.status == RunStatus.PLANNED
    polled = admin_client.get(f"/runs/{run.pk}/", HTTP_HX_REQUEST="true")
    assert polled["HX-Refresh"] == "true"
