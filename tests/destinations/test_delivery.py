"""Routing and delivery against a loopback vendor: consent decides where events go, every
event ends delivered, filtered (with why) or dead-lettered, temporary failures are retried
for four hours with backoff, permanent ones dead-lettered, dead letters replayed."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from apps.consent.services import consent_record
from apps.destinations import services
from apps.destinations.delivery import deliver
from apps.destinations.models import Delivery, Destination
from apps.destinations.outbound import DELIVERY_BACKOFF
from apps.events.pipeline import process_waiting
from apps.identity.normalise import Ident
from martech.common.errors import PermissionDeniedError

from .conftest import hook, person_with, send
from .vendors import FakeVendor


def _track(n, who, event="Order Completed", **extra):
    return {
        "type": "track",
        "event": event,
        "messageId": f"m{n}",
        "anonymousId": who,
        "properties": {"revenue": n},
        **extra,
    }


def _grant(who, purpose, granted=True):
    consent_record(
        subject=Ident("anonymous_id", who),
        purpose=purpose,
        granted=granted,
        source="banner",
        jurisdiction="gdpr",
    )


def _statuses(destination):
    return dict(
        Delivery.objects.filter(destination=destination).values_list("message_id", "status")
    )


def test_events_reach_only_the_destinations_their_consent_allows(client, admin, tool, web):
    """The consent matrix: three subjects by three destinations; nothing arrives anywhere
    its subject did not allow."""
    _, raw = web
    with FakeVendor("webhook") as v1, FakeVendor("webhook") as v2, FakeVendor("webhook") as v3:
        open_ = hook(admin, tool, v1, name="No purpose")
        analytics = hook(admin, tool, v2, name="Analytics", purposes=["analytics"])
        ads = hook(admin, tool, v3, name="Ads", purposes=["analytics", "advertising"])
        _grant("both", "analytics")
        _grant("both", "advertising")
        _grant("stats", "analytics")
        _grant("stats", "advertising", granted=False)
        send(client, raw, [_track(1, "both"), _track(2, "stats"), _track(3, "nobody")])
        assert process_waiting() == 3
        for destination in (open_, analytics, ads):
            deliver(destination)
        received = {
            name: {m["messageId"] for r in vendor.requests for m in r.body["batch"]}
            for name, vendor in (("open", v1), ("analytics", v2), ("ads", v3))
        }
    assert received == {"open": {"m1", "m2", "m3"}, "analytics": {"m1", "m2"}, "ads": {"m1"}}
    assert _statuses(ads) == {"m1": "delivered", "m2": "filtered", "m3": "filtered"}
    filtered = Delivery.objects.get(destination=ads, message_id="m2")
    assert (filtered.reason, filtered.payload) == ("consent", None)
    assert filtered.consent["advertising"] is False  # the snapshot it was decided on


def test_every_accepted_event_ends_delivered_filtered_or_dead_for_every_destination(
    client, admin, tool, web
):
    _, raw = web
    with FakeVendor("webhook") as good, FakeVendor("webhook") as picky:
        a = hook(admin, tool, good, name="Good", event_names=["Order Completed"])
        b = hook(admin, tool, picky, name="Picky", purposes=["analytics"])
        _grant("v1", "analytics")
        picky.fail_next(1, 400, {"error": "unknown field revenue"})
        messages = [
            _track(i, f"v{i % 3}", event="Order Completed" if i % 2 else "Cart Viewed")
            for i in range(1, 13)
        ]
        send(client, raw, messages)
        process_waiting()
        deliver(a)
        deliver(b)
    rows = list(Delivery.objects.values_list("destination_id", "message_id", "status", "reason"))
    assert len(rows) == 12 * 2  # one per event and destination
    assert {status for _, _, status, _ in rows} <= {"delivered", "filtered", "dead"}
    assert all(reason for _, _, status, reason in rows if status == "filtered")
    reasons = {reason for d, _, status, reason in rows if status == "filtered"}
    assert reasons == {"event_filter", "consent"}
    assert Delivery.objects.filter(destination=b, status="dead").exists()


def test_a_vendor_down_3h59m_gets_everything_and_beyond_4h_everything_is_dead_lettered(
    client, admin, tool, web
):
    _, raw = web
    start = timezone.now()
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        send(client, raw, [_track(1, "a"), _track(2, "b")])
        process_waiting()
        vendor.down = True
        with time_machine.travel(start, tick=False):
            deliver(destination)
        moment = start
        while moment < start + dt.timedelta(hours=3, minutes=59):
            moment += dt.timedelta(minutes=10)
            with time_machine.travel(moment, tick=False):
                deliver(destination)
        assert set(_statuses(destination).values()) == {"retrying"}
        vendor.down = False
        with time_machine.travel(start + dt.timedelta(hours=4, minutes=30), tick=False):
            deliver(destination)
        assert set(_statuses(destination).values()) == {"delivered"}

        send(client, raw, [_track(3, "c")])
        process_waiting()
        vendor.down = True
        later = start + dt.timedelta(hours=5)
        for minutes in range(0, 4 * 60 + 31, 10):
            with time_machine.travel(later + dt.timedelta(minutes=minutes), tick=False):
                deliver(destination)
    dead = Delivery.objects.get(destination=destination, message_id="m3")
    assert dead.status == "dead"
    assert "after 4 hours" in dead.error
    assert dead.response_code == 503


def test_a_permanent_refusal_goes_straight_to_the_dead_letters_with_the_vendor_error(
    client, admin, tool, web
):
    _, raw = web
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        vendor.fail_next(1, 422, {"error": "field revenue must be a string"})
        send(client, raw, [_track(1, "a")])
        process_waiting()
        deliver(destination)
    row = Delivery.objects.get(destination=destination)
    assert (row.status, row.attempts, row.response_code) == ("dead", 1, 422)
    assert "revenue must be a string" in row.error


def test_retry_after_is_honoured_and_backoff_is_full_jitter_under_a_growing_ceiling(
    client, admin, tool, web
):
    _, raw = web
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        vendor.fail_next(1, 429, {"error": "slow down"}, headers={"Retry-After": "600"})
        send(client, raw, [_track(1, "a")])
        process_waiting()
        before = timezone.now()
        deliver(destination)
    row = Delivery.objects.get(destination=destination)
    assert row.status == "retrying"
    assert row.next_attempt_at >= before + dt.timedelta(seconds=600)
    waits = [DELIVERY_BACKOFF.wait(5) for _ in range(200)]
    assert 0 <= min(waits) < max(waits) <= 30 * 16
    assert max(DELIVERY_BACKOFF.wait(30) for _ in range(50)) <= 30 * 60


def test_a_subjects_events_keep_their_order_while_others_flow(client, admin, tool, web):
    _, raw = web
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        send(client, raw, [_track(1, "ann"), _track(2, "bob"), _track(3, "ann")])
        process_waiting()
        first = Delivery.objects.get(destination=destination, message_id="m1")
        Delivery.objects.filter(pk=first.pk).update(
            status="retrying", next_attempt_at=timezone.now() + dt.timedelta(hours=1)
        )
        deliver(destination)
        sent = [m["messageId"] for r in vendor.requests for m in r.body["batch"]]
    assert sent == ["m2"]  # ann's m3 waits behind her m1
    assert _statuses(destination) == {"m1": "retrying", "m2": "delivered", "m3": "pending"}


def test_a_failing_destination_does_not_hold_up_a_healthy_one(client, admin, tool, web):
    _, raw = web
    with FakeVendor("webhook") as healthy, FakeVendor("webhook") as broken:
        ok = hook(admin, tool, healthy, name="Healthy")
        bad = hook(admin, tool, broken, name="Broken")
        broken.down = True
        send(client, raw, [_track(i, f"p{i}") for i in range(1, 31)])
        process_waiting()
        run = deliver(bad)
        assert run.stopped == "vendor failing"
        assert run.requests == 1  # it stops at once
        deliver(ok)
    assert set(_statuses(ok).values()) == {"delivered"}
    assert set(_statuses(bad).values()) == {"retrying"}


def test_dead_letters_replay_checks_consent_again_and_is_idempotent(client, admin, tool, web):
    _, raw = web
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor, purposes=["analytics"])
        _grant("ann", "analytics")
        _grant("bob", "analytics")
        vendor.fail_next(1, 400, {"error": "bad"})
        send(client, raw, [_track(1, "ann"), _track(2, "bob")])
        process_waiting()
        deliver(destination)
        assert set(_statuses(destination).values()) == {"dead"}
        _grant("bob", "analytics", granted=False)  # bob withdraws before the replay
        dead = list(Delivery.objects.filter(destination=destination))
        assert services.deliveries_replay(actor=admin, deliveries=dead) == {
            "replayed": 1,
            "filtered": 1,
        }
        assert services.deliveries_replay(actor=admin, deliveries=dead) == {
            "replayed": 0,
            "filtered": 0,
        }
        deliver(destination)
        sent = [m["messageId"] for r in vendor.requests[1:] for m in r.body["batch"]]
    assert sent == ["m1"]
    assert _statuses(destination) == {"m1": "delivered", "m2": "filtered"}
    assert Delivery.objects.get(message_id="m2").reason == "consent"


def test_production_destinations_need_send_production_which_tenure_gates(admin, tool):
    with FakeVendor("webhook") as vendor:
        codes = ("destinations.view", "destinations.manage", "destinations.send_production")
        newcomer = person_with(admin, *codes, tenure_days=30, name="New Hire")
        veteran = person_with(admin, *codes, tenure_days=400, name="Veteran")
        sandbox = hook(newcomer, tool, vendor, name="Sandbox hook")  # sandbox: fine
        assert sandbox.is_enabled
        with pytest.raises(PermissionDeniedError):
            hook(newcomer, tool, vendor, name="Prod hook", environment="production")
        prod = hook(veteran, tool, vendor, name="Prod hook", environment="production")
        with pytest.raises(PermissionDeniedError):
            services.destination_update(actor=newcomer, destination=prod, is_enabled=False)
        with pytest.raises(PermissionDeniedError):
            services.destination_update(
                actor=newcomer, destination=sandbox, environment="production"
            )
        services.destination_update(actor=veteran, destination=prod, is_enabled=False)


def test_credentials_are_encrypted_write_only_and_survive_a_key_rotation(admin, tool, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIAL_KEYS = [old]
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
    stored = Destination.objects.get(pk=destination.pk)
    assert vendor.credentials["signing_secret"] not in stored.credentials_token
    assert stored.credentials_set == ["signing_secret"]
    settings.CREDENTIAL_KEYS = [new, old]
    call_command("rotate_credential_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.CREDENTIAL_KEYS = [new]
    from martech.common import crypto

    stored.refresh_from_db()
    assert crypto.decrypt(stored.credentials_token) == {
        "signing_secret": vendor.credentials["signing_secret"]
    }


def test_send_test_captures_exactly_what_the_vendor_would_get_with_secrets_masked(admin, tool):
    with FakeVendor("webhook") as vendor:
        destination = hook(
            admin, tool, vendor, mappings=[{"from": "traits.first_name", "to": "firstname"}]
        )
        (capture,) = services.send_test(actor=admin, destination=destination)
        assert vendor.requests == []  # nothing left the console
        assert capture.url == vendor.base_url + "/hooks/martech"
    assert capture.body.startswith('{"batch":[{')
    assert '"firstname":"Ana"' in capture.body
    assert vendor.credentials["signing_secret"] not in str(capture.headers)
    assert capture.headers["X-Martech-Signature"].startswith("t=")


def test_a_suppressed_subject_is_dropped_before_routing_and_filtered_at_replay(
    client, admin, tool, web
):
    """The privacy gate asks the erasure suppression list; here entries made by hand. An
    event of someone erased between collection and processing is deleted, so nothing is
    routed for it; a dead letter of someone erased later is not replayed."""
    from apps.erasure.models import Suppression
    from apps.erasure.suppression import digest
    from apps.events.models import Event

    def erase(anonymous_id: str) -> None:
        Suppression.objects.create(
            value_hash=digest("anonymous_id", anonymous_id), type="anonymous_id"
        )

    _, raw = web
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        vendor.fail_next(1, 400, {"error": "bad"})
        send(client, raw, [_track(1, "gone"), _track(2, "kept")])
        erase("gone")  # erased after collection, before processing
        process_waiting()
        deliver(destination)
        assert _statuses(destination) == {"m2": "dead"}
        assert not Event.objects.filter(message_id="m1").exists()
        erase("kept")  # erased after it was dead-lettered
        counts = services.deliveries_replay(
            actor=admin, deliveries=list(Delivery.objects.filter(status="dead"))
        )
        deliver(destination)
        assert len(vendor.requests) == 1  # only the refused first attempt
    assert counts == {"replayed": 0, "filtered": 1}
    assert Delivery.objects.get(message_id="m2").reason == "suppression"


def test_a_vendor_slower_than_the_timeout_is_a_temporary_failure(
    client, admin, tool, web, settings
):
    from apps.destinations import client as http

    settings.DELIVERY_TIMEOUT_SECONDS = 0.5
    http._local.__dict__.clear()  # a new client with the new timeout
    _, raw = web
    try:
        with FakeVendor("webhook") as vendor:
            destination = hook(admin, tool, vendor)
            vendor.latency = 2.0
            send(client, raw, [_track(1, "a")])
            process_waiting()
            run = deliver(destination)
        row = Delivery.objects.get(destination=destination)
        assert run.stopped == "vendor failing"
        assert (row.status, row.response_code) == ("retrying", None)
        assert "did not answer in time" in row.error
    finally:
        http._local.__dict__.clear()


def test_replaying_many_dead_letters_asks_consent_in_a_few_queries_not_one_per_person(
    admin, tool, django_assert_max_num_queries
):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor, purposes=["analytics"])
    Delivery.objects.bulk_create(
        Delivery(
            destination=destination,
            message_id=f"m{i}",
            subject=f"anonymous_id:p{i}",
            status="dead",
            payload={"kind": "event", "message": {"type": "track"}},
        )
        for i in range(60)
    )
    for i in range(0, 60, 2):
        _grant(f"p{i}", "analytics")
    dead = list(Delivery.objects.all())
    with django_assert_max_num_queries(30):
        counts = services.deliveries_replay(actor=admin, deliveries=dead)
    assert counts == {"replayed": 30, "filtered": 30}


def test_a_replayed_event_has_its_filtered_delivery_decided_again_not_a_second_one(
    client, admin, tool, web
):
    """An event routed once already (quarantined, so filtered for every destination) is
    looked up again when it comes back from a replay: its one delivery turns pending."""
    from apps.events import services as events
    from apps.events.models import Event
    from apps.schemas import services as schemas

    source, raw = web
    plan = schemas.plan_create(actor=admin, name="Web", versions=[])
    events.source_update(actor=admin, source=source, plan=plan, enforcement="block")
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        send(client, raw, [_track(1, "late", event="Cart Abandoned")])
        assert process_waiting() == 1
        first = Delivery.objects.get(destination=destination)
        assert (first.status, first.reason, first.payload) == ("filtered", "schema", None)
        events.source_update(actor=admin, source=source, plan=None, enforcement="allow")
        assert events.events_replay(actor=admin, events=list(Event.objects.all())) == 1
        assert process_waiting() == 1
        again = Delivery.objects.get(destination=destination)
        assert again.pk == first.pk
        assert (again.status, again.reason) == ("pending", "")
        deliver(destination)
    assert [m["messageId"] for r in vendor.requests for m in r.body["batch"]] == ["m1"]


def test_the_retention_keeps_the_message_of_an_event_a_dead_letter_may_still_send(
    client, admin, tool, web, settings, monkeypatch
):
    """Past the retention, events delivered everywhere lose their message and their
    deliveries what they kept to send (a chunk at a time); an event whose delivery is a dead
    letter keeps its message, so that the replay still sends it. What went where, when and
    under which consent stays."""
    from apps.audit.models import AuditEvent
    from apps.events.models import Event
    from apps.events.services import payloads_purge

    _, raw = web
    settings.EVENT_RETENTION_DAYS = 30
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        send(
            client, raw, [_track(1, "old"), _track(2, "dead"), _track(3, "new"), _track(4, "older")]
        )
        process_waiting()
        deliver(destination)
        long_ago = timezone.now() - dt.timedelta(days=31)
        Delivery.objects.filter(message_id__in=["m1", "m2", "m4"]).update(created_at=long_ago)
        Event.objects.filter(message_id__in=["m1", "m2", "m4"]).update(received_at=long_ago)
        Delivery.objects.filter(message_id="m2").update(status="dead")
        monkeypatch.setattr(services, "PURGE_CHUNK", 1)  # more than one chunk to empty
        assert payloads_purge(now=timezone.now()) == 2
        rows = {d.message_id: d for d in Delivery.objects.filter(destination=destination)}
        assert rows["m1"].payload is None
        assert rows["m4"].payload is None
        assert (rows["m1"].status, rows["m1"].subject) == ("delivered", "anonymous_id:old")
        assert rows["m1"].consent is not None
        assert rows["m2"].payload is not None
        assert rows["m3"].payload is not None
        emptied = dict(Event.objects.values_list("message_id", "payload"))
        assert (emptied["m1"], emptied["m4"]) == ({}, {})
        assert emptied["m2"]["messageId"] == "m2"
        assert emptied["m3"]["messageId"] == "m3"
        record = AuditEvent.objects.filter(action="events.payloads.purged").latest("id")
        assert (record.metadata["events"], record.metadata["deliveries"]) == (2, 2)
        earlier = len(vendor.requests)
        services.deliveries_replay(actor=admin, deliveries=[rows["m2"]])
        deliver(destination)
    replayed = vendor.requests[earlier:]
    assert [m["messageId"] for r in replayed for m in r.body["batch"]] == ["m2"]
    assert Delivery.objects.get(message_id="m2").status == "delivered"


def test_a_delivery_keeps_no_copy_of_the_message_and_sends_the_stored_events_own(
    client, admin, tool, web
):
    """Routing writes what a delivery needs beyond the event (its kind and identifiers);
    the message is read from the stored event when sent, and the field mappings applied
    then (a mapping fixed while deliveries wait applies to them)."""
    _, raw = web
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        send(client, raw, [_track(7, "ana", context={"traits": {"email": "Ana@Acme.example"}})])
        assert process_waiting() == 1
        pending = Delivery.objects.get(destination=destination)
        assert pending.payload == {
            "kind": "event",
            "identifiers": {"anonymous_id": "ana", "email": "ana@acme.example"},
        }
        destination = services.destination_update(
            actor=admin,
            destination=destination,
            mappings=[{"from": "properties.revenue", "to": "amount"}],
        )
        deliver(destination)
    (sent,) = [m for r in vendor.requests for m in r.body["batch"]]
    assert (sent["messageId"], sent["properties"], sent["fields"]) == (
        "m7",
        {"revenue": 7},
        {"amount": 7},
    )


def test_a_delivery_whose_event_is_gone_is_dead_lettered_with_why_and_sends_nothing(
    client, admin, tool, web
):
    from apps.events.models import Event

    _, raw = web
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        send(client, raw, [_track(1, "gone"), _track(2, "kept")])
        assert process_waiting() == 2
        Event.objects.filter(message_id="m1").update(payload={})
        run = deliver(destination)
    assert [m["messageId"] for r in vendor.requests for m in r.body["batch"]] == ["m2"]
    assert (run.delivered, run.dead) == (1, 1)
    with FakeVendor("webhook") as vendor:  # a batch with nothing left to send sends nothing
        destination = services.destination_update(
            actor=admin, destination=destination, config={"url": vendor.base_url + "/hooks/x"}
        )
        send(client, raw, [_track(3, "gone too")])
        assert process_waiting() == 1
        Event.objects.filter(message_id="m3").update(payload={})
        assert deliver(destination).dead == 1
    assert vendor.requests == []
    dead = Delivery.objects.get(message_id="m1")
    assert dead.status == "dead"
    assert "no longer stored" in dead.error


def test_routing_a_first_time_event_that_has_a_delivery_already_keeps_it_and_stores_the_rest(
    admin, tool
):
    """Events routed for the first time go in without the conflict check; should one have a
    delivery after all, the batch is stored again with the check: nothing fails, nothing
    is doubled, the delivery that was there stays as it was."""
    from apps.destinations.routing import Routed, route

    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
    Delivery.objects.create(
        destination=destination,
        event_id=1,
        message_id="e1",
        status="delivered",
        subject="anonymous_id:a",
    )
    items = [
        Routed(
            event_id=n,
            message_id=f"e{n}",
            message={"type": "track", "event": "X"},
            status="processed",
            consent={},
            subject=f"anonymous_id:p{n}",
            identifiers={"anonymous_id": f"p{n}"},
            routed_before=False,
        )
        for n in (1, 2, 3)
    ]
    assert route(items, [destination]) == 3  # each decided pending
    rows = dict(Delivery.objects.values_list("event_id", "status"))
    assert rows == {1: "delivered", 2: "pending", 3: "pending"}


def test_deleting_a_destination_deletes_its_deliveries_and_leaves_the_others(
    client, admin, tool, web
):
    """The database does not check a delivery's destination: the deletion is Django's."""
    _, raw = web
    with FakeVendor("webhook") as v1, FakeVendor("webhook") as v2:
        gone, kept = hook(admin, tool, v1, name="Retired"), hook(admin, tool, v2, name="Kept")
        send(client, raw, [_track(1, "a"), _track(2, "b")])
        assert process_waiting() == 2
    retired = gone.pk  # delete() forgets it
    assert Delivery.objects.filter(destination_id=retired).count() == 2
    gone.delete()
    assert not Delivery.objects.filter(destination_id=retired).exists()
    assert _statuses(kept) == {"m1": "pending", "m2": "pending"}


def test_a_sandbox_sources_events_reach_only_sandbox_destinations(client, admin, tool, web):
    # given a production and a sandbox source, and a production and a sandbox destination
    from apps.events import services as events

    _, production_key = web
    _, sandbox_key = events.source_create(
        actor=admin, name="Test shop", environment="sandbox", rate_limit=10_000
    )
    with FakeVendor("webhook") as live_vendor, FakeVendor("webhook") as test_vendor:
        live = hook(admin, tool, live_vendor, name="Live", environment="production")
        test = hook(admin, tool, test_vendor, name="Test", environment="sandbox")
        # when each source sends an order and both destinations deliver
        send(client, production_key, [_track(1, "shopper")])
        send(client, sandbox_key, [_track(2, "tester")])
        assert process_waiting() == 2
        deliver(live)
        deliver(test)
        received = {
            name: {m["messageId"] for r in vendor.requests for m in r.body["batch"]}
            for name, vendor in (("live", live_vendor), ("test", test_vendor))
        }
    # then the sandbox's order never reaches production, and says why
    assert received == {"live": {"m1"}, "test": {"m1", "m2"}}
    held = Delivery.objects.get(destination=live, message_id="m2")
    assert (held.status, held.reason, held.payload) == ("filtered", "environment", None)
