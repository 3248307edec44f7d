"""Syncs through the API and the pages: create, map, run, follow, approve."""

from __future__ import annotations

from django.urls import reverse

from apps.syncs import running
from apps.syncs.models import RunStatus, Sync, SyncRun

from .conftest import destination_for, person_with, run_now, sync_for


def test_the_api_creates_a_sync_runs_it_and_reports_counts_and_rows(
    admin, admin_api, model, table, tool, webhook_vendor
):
    destination = destination_for(admin, tool, webhook_vendor)
    body = {
        "name": "API sync",
        "model": model.pk,
        "destination": destination.pk,
        "object": "contacts",
        "subject_column": "email",
        "subject_type": "email",
        "mappings": [{"from": "name", "to": "full_name"}],
    }
    created = admin_api.post("/api/v1/syncs/", body, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["mappings"] == [{"from": "name", "to": "full_name"}]

    queued = admin_api.post(f"/api/v1/syncs/{pk}/run/")
    assert queued.status_code == 202
    busy = admin_api.post(f"/api/v1/syncs/{pk}/run/")
    assert (busy.status_code, busy.json()["code"]) == (409, "run_in_progress")
    run_id = queued.json()["id"]
    table.execute("UPDATE wh_people SET email = 'broken' WHERE id = 'c2'")
    running.execute(run_id)

    run = admin_api.get(f"/api/v1/sync-runs/{run_id}/").json()
    assert (run["status"], run["added"], run["failed"], run["percent"]) == ("partial", 2, 1, 100)
    rows = admin_api.get(f"/api/v1/sync-runs/{run_id}/rows/?outcome=failed").json()
    assert [(r["key"], r["outcome"]) for r in rows["results"]] == [("c2", "failed")]
    assert "not an email address" in rows["results"][0]["message"]
    bad = admin_api.get(f"/api/v1/sync-runs/{run_id}/rows/?outcome=lost")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_outcome")
    listed = admin_api.get(f"/api/v1/sync-runs/?sync={pk}").json()
    assert [r["id"] for r in listed["results"]] == [run_id]


def test_the_api_refuses_a_mapping_the_vendor_cannot_take_with_a_code(
    admin, admin_api, model, tool, hubspot_vendor
):
    destination = destination_for(admin, tool, hubspot_vendor)
    body = {
        "name": "Bad",
        "model": model.pk,
        "destination": destination.pk,
        "object": "contacts",
        "subject_column": "email",
        "subject_type": "email",
        "mappings": [{"from": "name", "to": "Full Name"}],
    }
    response = admin_api.post("/api/v1/syncs/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_mappings"
    assert not Sync.objects.exists()


def test_the_api_dry_run_pause_and_approval_need_their_capabilities(
    admin, admin_api, model, tool, webhook_vendor
):
    from tests.conftest import _api_client_for

    production = destination_for(admin, tool, webhook_vendor, environment="production")
    sync = sync_for(admin, model, production)
    dry = admin_api.post(f"/api/v1/syncs/{sync.pk}/dry-run/")
    assert dry.status_code == 202
    assert dry.json()["dry_run"] is True
    running.execute(dry.json()["id"])
    held = run_now(admin, sync)
    assert held.status == RunStatus.NEEDS_APPROVAL
    junior = person_with(
        admin, "syncs.view", "syncs.run", "syncs.run_production", tenure_days=10, name="Nia New"
    )
    refused = _api_client_for(junior).post(f"/api/v1/sync-runs/{held.pk}/approve/")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    approved = admin_api.post(f"/api/v1/sync-runs/{held.pk}/approve/")
    assert approved.json()["status"] == "queued"
    paused = admin_api.post(f"/api/v1/syncs/{sync.pk}/pause/")
    assert paused.json()["is_paused"] is True
    resumed = admin_api.post(f"/api/v1/syncs/{sync.pk}/resume/")
    assert resumed.json()["is_paused"] is False


def test_the_mapping_page_saves_rows_and_shows_a_refusal_on_the_form(
    admin, client, model, tool, hubspot_vendor
):
    client.force_login(admin)
    sync = sync_for(admin, model, destination_for(admin, tool, hubspot_vendor), mappings=[])
    url = reverse("syncs:sync_mappings", args=[sync.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'<option value="ltv">' in page.content
    bad = client.post(url, {"from": ["name", ""], "to": ["Bad Name", ""]})
    assert bad.status_code == 400
    assert b"is not a HubSpot field name" in bad.content
    saved = client.post(url, {"from": ["name", "ltv", ""], "to": ["firstname", "ltv", ""]})
    assert saved.status_code == 302
    sync.refresh_from_db()
    assert sync.mappings == [{"from": "name", "to": "firstname"}, {"from": "ltv", "to": "ltv"}]


def test_the_sync_pages_show_runs_progress_counts_and_the_held_dry_run(
    admin, client, model, tool, webhook_vendor
):
    client.force_login(admin)
    production = destination_for(admin, tool, webhook_vendor, environment="production")
    sync = sync_for(admin, model, production)
    held = run_now(admin, sync)
    listing = client.get(reverse("syncs:sync_list"))
    assert b"People to CRM" in listing.content
    assert b"needs approval" in listing.content
    detail = client.get(reverse("syncs:sync_detail", args=[sync.pk]))
    assert b"3 planned" in detail.content
    page = client.get(reverse("syncs:run_detail", args=[held.pk]))
    assert b"This run waits for approval" in page.content
    assert b"person0@acme.example" in page.content  # a sample row
    assert b"Go ahead" in page.content
    client.post(reverse("syncs:run_approve", args=[held.pk]), {"confirmed": "1"})
    running.execute(held.pk)
    fragment = client.get(reverse("syncs:run_detail", args=[held.pk]), HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content
    assert b'data-run-status="succeeded"' in fragment.content
    assert b"3 of 3 rows done (100%)" in fragment.content
    detail = client.get(reverse("syncs:sync_detail", args=[sync.pk]))
    assert b'data-chart="sync-chart-data"' in detail.content


def test_the_sync_list_is_empty_with_an_explanation(admin, client):
    client.force_login(admin)
    page = client.get(reverse("syncs:sync_list"))
    assert b"No syncs yet" in page.content
    assert not SyncRun.objects.exists()


def test_listing_syncs_through_the_api_costs_the_same_for_one_sync_or_five(
    admin, admin_api, model, tool, webhook_vendor, django_assert_max_num_queries
):
    destination = destination_for(admin, tool, webhook_vendor)
    sync_for(admin, model, destination, name="Sync 0")
    admin_api.get("/api/v1/syncs/")  # warm the token and capability caches
    with django_assert_max_num_queries(12) as one:
        admin_api.get("/api/v1/syncs/")
    for n in range(1, 5):
        sync_for(admin, model, destination, name=f"Sync {n}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        listed = admin_api.get("/api/v1/syncs/").json()
    assert listed["count"] == 5
