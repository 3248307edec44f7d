"""Letting a held production run go ahead first says how many rows go where."""

from __future__ import annotations

from django.urls import reverse

from apps.syncs.models import RunStatus

from .conftest import destination_for, run_now, sync_for


def test_go_ahead_without_confirmation_names_rows_and_destination_and_sends_nothing(
    admin, client, model, tool, webhook_vendor
):
    client.force_login(admin)
    production = destination_for(
        admin, tool, webhook_vendor, name="Braze", environment="production"
    )
    held = run_now(admin, sync_for(admin, model, production))
    sent_before = len(webhook_vendor.requests)

    page = client.post(reverse("syncs:run_approve", args=[held.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert f"Let run #{held.number} of People to CRM go ahead?" in text
    assert "Sends 3 rows to Braze (production): 3 added, 0 changed." in text
    assert "It was held because it is the sync&#x27;s first run." in text
    held.refresh_from_db()
    assert held.status == RunStatus.NEEDS_APPROVAL
    assert held.approved_by is None
    assert len(webhook_vendor.requests) == sent_before


def test_go_ahead_with_confirmation_queues_the_run(admin, client, model, tool, webhook_vendor):
    client.force_login(admin)
    production = destination_for(
        admin, tool, webhook_vendor, name="Braze", environment="production"
    )
    held = run_now(admin, sync_for(admin, model, production))

    url = reverse("syncs:run_approve", args=[held.pk])
    asked = client.post(url, HTTP_X_CONSOLE_CONFIRM="ask").json()
    held.refresh_from_db()
    assert held.status == RunStatus.NEEDS_APPROVAL

    done = client.post(url, {"confirmed": "1"})

    assert asked["button"] == "Send to Braze"

    assert done.status_code == 302
    held.refresh_from_db()
    assert held.status == RunStatus.QUEUED
    assert held.approved_by == admin


def test_go_ahead_with_no_rows_to_send_says_so_and_is_not_final(
    admin, client, model, tool, webhook_vendor
):
    # given: a held run into "Braze (production)" whose every row is skipped
    client.force_login(admin)
    production = destination_for(
        admin, tool, webhook_vendor, name="Braze (production)", environment="production"
    )
    held = run_now(admin, sync_for(admin, model, production))
    held.planned = {"added": 0, "changed": 0, "removed": 0, "skipped": 3}
    held.save(update_fields=["planned"])

    # when: going ahead is asked about
    asked = client.post(
        reverse("syncs:run_approve", args=[held.pk]), HTTP_X_CONSOLE_CONFIRM="ask"
    ).json()

    # then: it sends nothing, says so, names the destination once, and nothing is final
    assert asked["lines"][0] == "Sends no rows to Braze (production): none is added or changed."
    assert asked["button"] == "Go ahead"
    assert asked["final"] is False
