"""Sync runs against a PostgreSQL warehouse and loopback vendors: each mode sends only what
it should, consent and suppression skip rows, failed rows keep the vendor's message and go
again, and a run that stopped is followed by a correct one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.consent.services import consent_record
from apps.erasure.models import Suppression
from apps.erasure.suppression import digest
from apps.identity.normalise import Ident
from apps.syncs import running, services
from apps.syncs.engine.run import ERASED_KEY
from apps.syncs.models import RunStatus, SyncRow, SyncRunRow
from martech.common.errors import ApplicationError
from tests.destinations.vendors import INVALID_EMAIL_SUFFIX

from .conftest import destination_for, run_now, sent_rows, sync_for


def counts(run) -> dict[str, int]:
    names = (
        "added",
        "changed",
        "removed",
        "failed",
        "skipped_consent",
        "skipped_suppression",
        "skipped_mode",
        "unchanged",
    )
    return {k: getattr(run, k) for k in names if getattr(run, k)}


def test_the_first_run_sends_every_row_and_the_next_only_what_changed(
    admin, model, table, tool, webhook_vendor
):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    first = run_now(admin, sync)
    assert first.status == RunStatus.SUCCEEDED, first.error
    assert counts(first) == {"added": 3}
    assert (first.total, first.done) == (3, 3)
    assert sorted(r["fields"]["full_name"] for r in sent_rows(webhook_vendor)) == [
        "Person 0",
        "Person 1",
        "Person 2",
    ]
    assert SyncRow.objects.filter(sync=sync, synced_at__isnull=False).count() == 3

    # when: one row changes, one arrives, and a column that is not mapped changes
    webhook_vendor.clear()
    table.execute("UPDATE wh_people SET name = 'Person One' WHERE id = 'c1'")
    table.fill(1, start=3)
    second = run_now(admin, sync)
    assert counts(second) == {"added": 1, "changed": 1, "unchanged": 2}
    assert sorted(r["fields"]["full_name"] for r in sent_rows(webhook_vendor)) == [
        "Person 3",
        "Person One",
    ]

    webhook_vendor.clear()
    third = run_now(admin, sync)
    assert counts(third) == {"unchanged": 4}
    assert webhook_vendor.requests == []


def test_update_only_sends_changes_to_rows_it_sent_before_and_skips_new_ones(
    admin, model, table, tool, webhook_vendor
):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    run_now(admin, sync)
    services.sync_update(actor=admin, sync=sync, mode="update")
    webhook_vendor.clear()
    table.execute("UPDATE wh_people SET ltv = 99 WHERE id = 'c0'")
    table.fill(2, start=10)
    run = run_now(admin, sync)
    assert counts(run) == {"changed": 1, "skipped_mode": 2, "unchanged": 2}
    assert [r["fields"]["ltv"] for r in sent_rows(webhook_vendor)] == [99]


def test_insert_only_sends_rows_never_sent_and_leaves_changed_ones(
    admin, model, table, tool, webhook_vendor
):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor), mode="insert")
    run_now(admin, sync)
    webhook_vendor.clear()
    table.execute("UPDATE wh_people SET ltv = 99 WHERE id = 'c0'")
    table.fill(1, start=10)
    run = run_now(admin, sync)
    assert counts(run) == {"added": 1, "skipped_mode": 1, "unchanged": 2}
    assert [r["fields"]["full_name"] for r in sent_rows(webhook_vendor)] == ["Person 10"]


def test_mirror_removes_rows_that_left_the_model_at_the_destination(
    admin, model, table, tool, webhook_vendor
):
    destination = destination_for(
        admin,
        tool,
        webhook_vendor,
        config={
            "url": webhook_vendor.base_url + "/hooks/martech",
            "requests_per_second": 1000,
            "deletion_url": webhook_vendor.base_url + "/hooks/martech/erasure",
        },
    )
    sync = sync_for(admin, model, destination, mode="mirror")
    run_now(admin, sync)
    webhook_vendor.clear()
    table.execute("DELETE FROM wh_people WHERE id = 'c2'")
    run = run_now(admin, sync)
    assert counts(run) == {"removed": 1, "unchanged": 2}
    [request] = webhook_vendor.requests
    assert request.path == "/hooks/martech/erasure"
    assert request.body["identifiers"] == {"email": "person2@acme.example"}
    assert set(SyncRow.objects.filter(sync=sync).values_list("key", flat=True)) == {"c0", "c1"}
    assert SyncRunRow.objects.filter(run=run, outcome="removed").get().key == "c2"


def test_an_audience_mirror_sets_membership_false_for_people_who_left(
    admin, model, table, tool, webhook_vendor
):
    destination = destination_for(admin, tool, webhook_vendor)
    sync = sync_for(
        admin,
        model,
        destination,
        object="audiences",
        mode="mirror",
        audience_field="in_vip_audience",
    )
    run_now(admin, sync)
    assert {r["fields"]["in_vip_audience"] for r in sent_rows(webhook_vendor)} == {True}
    webhook_vendor.clear()
    table.execute("DELETE FROM wh_people WHERE id = 'c0'")
    run = run_now(admin, sync)
    assert counts(run) == {"removed": 1, "unchanged": 2}
    [row] = sent_rows(webhook_vendor)
    assert row["fields"] == {"in_vip_audience": False}
    assert row["kind"] == "profile"


def test_conversions_are_sent_as_events_with_a_stable_message_id(
    admin, model, tool, webhook_vendor
):
    sync = sync_for(
        admin,
        model,
        destination_for(admin, tool, webhook_vendor),
        object="conversions",
        event_name="Opportunity Created",
    )
    run_now(admin, sync)
    rows = sent_rows(webhook_vendor)
    assert {r["event"] for r in rows} == {"Opportunity Created"}
    assert {r["kind"] for r in rows} == {"event"}
    assert all(r["messageId"].startswith(f"sync-{sync.pk}-c") for r in rows)


def test_rows_without_the_consent_the_destination_needs_are_skipped_and_counted(
    admin, model, tool, webhook_vendor
):
    destination = destination_for(admin, tool, webhook_vendor, purposes=["email_marketing"])
    consent_record(
        subject=Ident("email", "person1@acme.example"),
        purpose="email_marketing",
        granted=True,
        source="banner",
        jurisdiction="gdpr",
    )
    consent_record(
        subject=Ident("email", "person2@acme.example"),
        purpose="email_marketing",
        granted=False,
        source="banner",
        jurisdiction="gdpr",
    )
    sync = sync_for(admin, model, destination)
    run = run_now(admin, sync)
    assert counts(run) == {"added": 1, "skipped_consent": 2}
    assert [r["fields"]["full_name"] for r in sent_rows(webhook_vendor)] == ["Person 1"]
    skipped = SyncRunRow.objects.filter(run=run, outcome="skipped_consent")
    assert sorted(skipped.values_list("key", flat=True)) == ["c0", "c2"]
    assert skipped.first().message == "No consent for Email marketing at webhook sink."
    # a skipped row is not recorded as sent: granting consent later sends it
    consent_record(
        subject=Ident("email", "person0@acme.example"),
        purpose="email_marketing",
        granted=True,
        source="banner",
        jurisdiction="gdpr",
    )
    again = run_now(admin, sync)
    assert counts(again) == {"added": 1, "skipped_consent": 1, "unchanged": 1}


def test_rows_of_erased_people_are_skipped_and_counted(admin, model, tool, webhook_vendor):
    Suppression.objects.create(value_hash=digest("email", "person0@acme.example"), type="email")
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    run = run_now(admin, sync)
    assert counts(run) == {"added": 2, "skipped_suppression": 1}
    assert "person0@acme.example" not in str(sent_rows(webhook_vendor))
    assert SyncRunRow.objects.get(run=run, outcome="skipped_suppression").key == ERASED_KEY


def test_a_destination_failing_some_rows_keeps_their_error_and_sends_them_again(
    admin, model, table, tool, hubspot_vendor
):
    table.execute(
        "UPDATE wh_people SET email = %s WHERE id = 'c1'", [f"broken{INVALID_EMAIL_SUFFIX}"]
    )
    sync = sync_for(admin, model, destination_for(admin, tool, hubspot_vendor))
    run = run_now(admin, sync)
    assert run.status == RunStatus.PARTIAL
    assert counts(run) == {"added": 2, "failed": 1}
    failure = SyncRunRow.objects.get(run=run, outcome="failed")
    assert failure.key == "c1"
    assert "Property values were not valid" in failure.message
    assert SyncRow.objects.get(sync=sync, key="c1").error
    # when: the row is fixed in the warehouse, the next run sends it and only it
    hubspot_vendor.clear()
    table.execute("UPDATE wh_people SET email = 'fixed@acme.example' WHERE id = 'c1'")
    again = run_now(admin, sync)
    assert counts(again) == {"added": 1, "unchanged": 2}
    [request] = hubspot_vendor.requests
    assert [i["id"] for i in request.body["inputs"]] == ["fixed@acme.example"]
    assert SyncRow.objects.get(sync=sync, key="c1").error == ""


def test_a_temporary_failure_is_tried_again_within_the_run(admin, model, tool, webhook_vendor):
    webhook_vendor.fail_next(1, 503, {"error": "busy"})
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    run = run_now(admin, sync)
    assert run.status == RunStatus.SUCCEEDED
    assert (run.added, run.requests) == (3, 2)


def test_a_vendor_that_stays_down_fails_the_run_and_the_next_run_sends_everything(
    admin, model, tool, webhook_vendor
):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    webhook_vendor.down = True
    run = run_now(admin, sync)
    assert run.status == RunStatus.FAILED
    assert "kept failing" in run.error
    assert "503" in run.error
    assert not SyncRow.objects.filter(sync=sync, synced_at__isnull=False).exists()
    webhook_vendor.down = False
    again = run_now(admin, sync)
    assert again.status == RunStatus.SUCCEEDED
    assert counts(again) == {"added": 3}


def test_a_run_refuses_a_model_whose_key_has_nulls_or_duplicates_and_names_them(
    admin, model, table, tool, webhook_vendor
):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    table.execute("INSERT INTO wh_people VALUES ('c1', 'twin@acme.example', 'Twin', 1)")
    run = run_now(admin, sync)
    assert run.status == RunStatus.FAILED
    assert "c1 (2 times)" in run.error
    table.execute("DELETE FROM wh_people WHERE email = 'twin@acme.example'")
    table.execute("INSERT INTO wh_people VALUES (NULL, 'nobody@acme.example', 'Nobody', 1)")
    run = run_now(admin, sync)
    assert run.status == RunStatus.FAILED
    assert "empty in 1 rows" in run.error
    assert webhook_vendor.requests == []


def test_rows_with_an_invalid_identifier_fail_with_the_reason_and_others_go(
    admin, model, table, tool, webhook_vendor
):
    table.execute("UPDATE wh_people SET email = 'not-an-email' WHERE id = 'c2'")
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    run = run_now(admin, sync)
    assert counts(run) == {"added": 2, "failed": 1}
    assert "not an email address" in SyncRunRow.objects.get(run=run, outcome="failed").message


def test_a_dry_run_counts_and_samples_without_sending_or_recording(
    admin, model, tool, webhook_vendor
):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    run = run_now(admin, sync, dry_run=True)
    assert run.status == RunStatus.PLANNED
    assert run.planned["added"] == 3
    assert [s["key"] for s in run.sample] == ["c0", "c1", "c2"]
    assert run.sample[0]["fields"] == {"full_name": "Person 0", "ltv": 0}
    assert webhook_vendor.requests == []
    assert not SyncRow.objects.filter(sync=sync).exists()


def test_a_run_whose_worker_went_silent_is_taken_up_again_and_sends_only_the_rest(
    admin, model, tool, webhook_vendor, settings
):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    run = services.sync_run(actor=admin, sync=sync)
    # given: a worker acknowledged one row and then stopped answering
    SyncRow.objects.create(
        sync=sync,
        key="c0",
        subject="email:person0@acme.example",
        fingerprint=None,
        synced_at=timezone.now(),
    )
    long_ago = timezone.now() - dt.timedelta(seconds=settings.SYNC_STALE_SECONDS + 60)
    type(run).objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=long_ago, added=1
    )
    # a fresh heartbeat would keep another worker away
    assert running.execute(run.pk) is not None
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    # c0's fingerprint was never written in full, so it goes again (an idempotent upsert)
    assert {r["fields"]["full_name"] for r in sent_rows(webhook_vendor)} == {
        "Person 0",
        "Person 1",
        "Person 2",
    }
    assert SyncRow.objects.filter(sync=sync, synced_at__isnull=False).count() == 3


def test_a_running_run_with_a_fresh_heartbeat_is_not_taken_twice(
    admin, model, tool, webhook_vendor
):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    run = services.sync_run(actor=admin, sync=sync)
    type(run).objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now()
    )
    assert running.execute(run.pk) is None
    assert webhook_vendor.requests == []


def test_one_run_at_a_time_and_a_paused_sync_does_not_run(admin, model, tool, webhook_vendor):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    services.sync_run(actor=admin, sync=sync)
    with pytest.raises(ApplicationError) as caught:
        services.sync_run(actor=admin, sync=sync)
    assert caught.value.code == "run_in_progress"
    sync.runs.update(status=RunStatus.SUCCEEDED)
    services.sync_pause(actor=admin, sync=sync, paused=True)
    with pytest.raises(ApplicationError) as caught:
        services.sync_run(actor=admin, sync=sync)
    assert caught.value.code == "sync_paused"


def test_keys_in_any_case_script_or_width_compare_the_same_in_the_warehouse_and_the_state(
    admin, model, table, tool, webhook_vendor
):
    table.execute("DELETE FROM wh_people")
    for key in ("Zed", "apple", "Émile", "zoë", "10", "9", "a b", "ä", "ﬁ", "\U0001d518"):
        table.execute(
            "INSERT INTO wh_people VALUES (%s, %s, %s, 1)",
            [key, f"k{len(key)}{ord(key[0])}@acme.example", key],
        )
    destination = destination_for(
        admin,
        tool,
        webhook_vendor,
        config={
            "url": webhook_vendor.base_url + "/hooks/martech",
            "requests_per_second": 1000,
            "deletion_url": webhook_vendor.base_url + "/hooks/martech/erasure",
        },
    )
    sync = sync_for(admin, model, destination, mode="mirror")
    assert counts(run_now(admin, sync)) == {"added": 10}
    assert counts(run_now(admin, sync)) == {"unchanged": 10}
    table.execute("DELETE FROM wh_people WHERE id = 'Émile'")
    run = run_now(admin, sync)
    assert counts(run) == {"removed": 1, "unchanged": 9}
    assert SyncRunRow.objects.get(run=run, outcome="removed").key == "Émile"
