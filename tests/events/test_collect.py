"""The Segment-compatible collection API: authentication, limits, per-message reasons,
deduplication, rate limits and CORS; then the pipeline with each enforcement mode."""

import base64
import csv
import gzip
import io
import json

import pytest
from django.urls import reverse

from apps.consent.defaults import ensure_default_purposes
from apps.consent.models import ConsentRecord
from apps.events import services
from apps.events.models import Event
from apps.events.pipeline import process_waiting
from apps.identity.models import Identifier
from apps.schemas import services as schemas
from apps.schemas.models import Violation

ORDER = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}


@pytest.fixture(autouse=True)
def purposes(db):
    ensure_default_purposes()


@pytest.fixture
def web(admin):
    source, raw = services.source_create(
        actor=admin, name="Web", allowed_origins=["https://www.acme.example"], rate_limit=1000
    )
    return source, raw


def _auth(raw):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{raw}:".encode()).decode()}


def _post(client, path, body, raw=None, **extra):
    data = body if isinstance(body, bytes) else json.dumps(body)
    headers = _auth(raw) if raw else {}
    return client.post(path, data, content_type="application/json", **headers, **extra)


def _track(message_id, **extra):
    return {
        "type": "track",
        "event": "Order Completed",
        "messageId": message_id,
        "anonymousId": "ajs-1",
        "properties": {"total": 5},
        **extra,
    }


def test_a_batch_is_stored_before_an_exact_200(client, web):
    source, raw = web
    body = {
        "batch": [
            _track("m1"),
            {
                "type": "identify",
                "userId": "u-1",
                "anonymousId": "ajs-1",
                "messageId": "m2",
                "traits": {"email": "Mia@Example.com"},
            },
        ],
        "context": {"library": {"name": "analytics-python"}},
    }
    response = _post(client, "/v1/batch", body, raw)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    stored = {e.message_id: e for e in Event.objects.filter(source=source)}
    assert set(stored) == {"m1", "m2"}
    assert stored["m1"].payload["context"]["library"]["name"] == "analytics-python"
    assert stored["m1"].name == "Order Completed"


def test_the_write_key_may_come_in_the_body_and_bad_keys_are_401(client, web):
    _, raw = web
    ok = _post(client, "/v1/track", {**_track("m1"), "writeKey": raw})
    assert ok.status_code == 200
    assert "writeKey" not in Event.objects.get().payload
    missing = _post(client, "/v1/track", _track("m2"))
    assert (missing.status_code, missing.json()["code"]) == (401, "missing_write_key")
    wrong = _post(client, "/v1/track", _track("m3"), "wk_nope")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_write_key")


def test_device_clock_skew_is_corrected_like_segment(client, web):
    _, raw = web
    message = _track("m1", timestamp="2026-01-01T10:00:00Z", sentAt="2026-01-01T10:00:05Z")
    _post(client, "/v1/track", message, raw)
    event = Event.objects.get()
    skew = (event.received_at - event.timestamp).total_seconds()
    assert 4.9 < skew < 5.1  # received minus (sentAt - timestamp)
    assert event.payload["originalTimestamp"].startswith("2026-01-01T10:00:00")


def test_gzip_bodies_are_accepted_and_bad_ones_refused(client, web):
    _, raw = web
    packed = gzip.compress(json.dumps({"batch": [_track("m1")]}).encode())
    ok = _post(client, "/v1/batch", packed, raw, HTTP_CONTENT_ENCODING="gzip")
    assert ok.status_code == 200
    bad = _post(client, "/v1/batch", b"not gzip", raw, HTTP_CONTENT_ENCODING="gzip")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_gzip")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (json.dumps({"batch": "x"}).encode(), "invalid_batch"),
        (json.dumps({"batch": [{}] * 2501}).encode(), "batch_too_large"),
        (
            json.dumps({"batch": [_track(f"m{i}", pad="x" * 2000) for i in range(300)]}).encode(),
            "payload_too_large",
        ),
    ],
)
def test_malformed_or_oversize_input_is_a_400_with_a_code(client, web, body, code):
    _, raw = web
    response = _post(client, "/v1/batch", body, raw)
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert not Event.objects.exists()


def test_bad_messages_are_rejected_one_by_one_with_reasons(client, web):
    _, raw = web
    batch = [
        _track("ok"),
        {"type": "track", "event": "X", "messageId": "no-id"},
        {"type": "track", "anonymousId": "a", "messageId": "no-event"},
        _track("big", properties={"blob": "x" * 33_000}),
        _track("nul", properties={"note": "a\u0000b"}),  # PostgreSQL text cannot hold NUL
        _track("escaped", properties={"note": "a\\u0000b"}),  # a backslash, then u0000: fine
    ]
    response = _post(client, "/v1/batch", {"batch": batch}, raw)
    assert response.status_code == 200
    rejected = {r["messageId"]: r["code"] for r in response.json()["rejected"]}
    assert rejected == {
        "no-id": "missing_identity",
        "no-event": "missing_event",
        "big": "message_too_large",
        "nul": "invalid_character",
    }
    stored = Event.objects.values_list("message_id", flat=True)
    assert sorted(stored) == ["escaped", "ok"]
    single = _post(client, "/v1/track", {"event": "X", "messageId": "s"}, raw)
    assert (single.status_code, single.json()["code"]) == (400, "missing_identity")


def test_a_resent_message_is_stored_once(client, web):
    _, raw = web
    for _ in range(3):
        assert _post(client, "/v1/batch", {"batch": [_track("same")]}, raw).status_code == 200
    assert Event.objects.count() == 1


def test_a_batch_mixing_resent_and_new_messages_stores_the_new_ones_and_the_resent_once(
    client, web
):
    _, raw = web
    assert _post(client, "/v1/batch", {"batch": [_track("a"), _track("b")]}, raw).status_code == 200
    again = {"batch": [_track("b"), _track("c"), _track("a"), _track("d")]}
    assert _post(client, "/v1/batch", again, raw).status_code == 200
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["a", "b", "c", "d"]


def test_over_its_rate_limit_a_source_gets_429_with_retry_after(client, admin, web):
    source, raw = web
    services.source_update(actor=admin, source=source, rate_limit=2)
    codes = [_post(client, "/v1/track", _track(f"m{i}"), raw).status_code for i in range(4)]
    assert codes[:2] == [200, 200]
    assert 429 in codes[2:]
    limited = _post(client, "/v1/track", _track("m9"), raw)
    if limited.status_code == 429:
        assert limited["Retry-After"] == "1"
        assert limited.json()["code"] == "rate_limited"


def test_each_request_counts_once_against_the_rate_limit_once_its_key_is_remembered(
    client, admin, web
):
    """From the second request on, the key's source is known before the key is checked, so
    its count travels with the generations' read: still one count per request."""
    import time_machine
    from django.utils import timezone

    from martech.common import sharedcache

    source, raw = web
    services.source_update(actor=admin, source=source, rate_limit=3)
    with time_machine.travel(timezone.now(), tick=False):  # every request in one second
        key = f"events:rate:{source.pk}:{int(timezone.now().timestamp())}"
        sharedcache._redis().delete(key)
        codes = [_post(client, "/v1/track", _track(f"m{i}"), raw).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert sharedcache._redis().get(key) == b"5"


def test_browsers_get_cors_for_allowed_origins_only(client, web):
    _, raw = web
    ok = _post(client, "/v1/track", _track("m1"), raw, HTTP_ORIGIN="https://www.acme.example")
    assert ok["Access-Control-Allow-Origin"] == "https://www.acme.example"
    other = _post(client, "/v1/track", _track("m2"), raw, HTTP_ORIGIN="https://evil.example")
    assert (other.status_code, other.json()["code"]) == (403, "origin_not_allowed")
    preflight = client.options("/v1/batch", HTTP_ORIGIN="https://www.acme.example")
    assert preflight.status_code == 204
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in client.options(
        "/v1/batch", HTTP_ORIGIN="https://evil.example"
    )


# --- The pipeline ----------------------------------------------------------------------------


def test_the_pipeline_stitches_identity_and_attaches_consent_and_gpc(client, web):
    _, raw = web
    body = {
        "batch": [
            _track("m1"),
            {
                "type": "identify",
                "userId": "u-1",
                "anonymousId": "ajs-1",
                "messageId": "m2",
                "traits": {"email": "Mia@Example.com"},
            },
        ]
    }
    _post(client, "/v1/batch", body, raw, HTTP_SEC_GPC="1")
    assert process_waiting() == 2
    cookie = Identifier.objects.get(type="anonymous_id", value="ajs-1")
    email = Identifier.objects.get(type="email", value="mia@example.com")
    assert cookie.profile_id == email.profile_id
    events = {e.message_id: e for e in Event.objects.all()}
    assert {e.status for e in events.values()} == {"processed"}
    assert events["m2"].profile_id == cookie.profile_id
    assert events["m1"].consent["sale_share"] is False  # GPC
    assert ConsentRecord.objects.filter(purpose__code="sale_share", source="gpc").count() == 1


@pytest.fixture
def planned(admin, web):
    source, raw = web
    schema = schemas.schema_create(
        actor=admin,
        name="Order Completed",
        json_schema=ORDER,
        fields={"total": {"purpose": "revenue"}},
    )
    version = schemas.version_publish(actor=admin, version=schema.versions.get())
    plan = schemas.plan_create(actor=admin, name="Web", versions=[version])
    return source, raw, plan


@pytest.mark.parametrize(
    ("mode", "status"), [("allow", "processed"), ("flag", "flagged"), ("block", "quarantined")]
)
def test_each_enforcement_mode_applies_to_real_events(client, admin, planned, mode, status):
    source, raw, plan = planned
    services.source_update(actor=admin, source=source, plan=plan, enforcement=mode)
    _post(
        client,
        "/v1/batch",
        {"batch": [_track("bad", properties={"total": "5"}), _track("good")]},
        raw,
    )
    process_waiting()
    events = {e.message_id: e for e in Event.objects.all()}
    assert events["good"].status == "processed"
    assert events["bad"].status == status
    assert events["bad"].violations[0]["kind"] == "wrong_type"
    assert Violation.objects.get().event_ref == "bad"
    if mode == "block":
        assert events["bad"].consent is None  # never processed further
        assert events["bad"].profile_id is None


def test_a_quarantined_event_is_kept_and_replayed_after_the_plan_is_fixed(client, admin, planned):
    source, raw, plan = planned
    services.source_update(actor=admin, source=source, plan=plan, enforcement="block")
    _post(client, "/v1/track", _track("late", event="Cart Abandoned", properties={}), raw)
    process_waiting()
    event = Event.objects.get()
    assert event.status == "quarantined"
    assert event.violations[0]["kind"] == "unplanned_event"
    # the fix: Cart Abandoned joins the plan
    cart = schemas.schema_create(actor=admin, name="Cart Abandoned")
    version = schemas.version_publish(actor=admin, version=cart.versions.get())
    schemas.plan_update(actor=admin, plan=plan, versions=[*plan.versions.all(), version])
    assert services.events_replay(actor=admin, events=[event]) == 1
    process_waiting()
    event.refresh_from_db()
    assert event.status == "processed"
    assert event.violations == []
    assert event.profile_id is not None


def test_the_demo_traffic_is_processed_with_a_quarantined_ios_event(client, admin):
    from django.core.management import call_command

    call_command("load_demo")
    statuses = dict(Event.objects.values_list("message_id", "status"))
    assert set(statuses.values()) >= {"processed", "flagged", "quarantined"}
    wishlist = Event.objects.get(name="Wishlist Added")
    assert wishlist.status == "quarantined"
    client.force_login(admin)
    page = client.get("/events/", {"status": "quarantined"})
    assert page.status_code == 200
    assert b"Wishlist Added" in page.content
    detail = client.get(f"/events/{wishlist.pk}/")
    assert b"unplanned_event" in detail.content
    live = client.get("/events/", HTTP_HX_REQUEST="true")
    assert b'hx-trigger="every 5s"' in live.content
    sandbox = _post(client, "/v1/track", _track("try-1"), "wk_demo_sandbox_key_2026")
    assert sandbox.status_code == 200


def test_first_touch_stays_and_last_touch_follows_marketing_arrivals(client, web):
    from apps.identity.models import Profile

    _, raw = web
    site = "https://www.acme.example"

    def page(message_id, url, referrer, minute):
        return {
            "type": "page",
            "anonymousId": "ajs-7",
            "messageId": message_id,
            "timestamp": f"2026-06-01T10:{minute:02d}:00Z",
            "context": {"page": {"url": url, "referrer": referrer}},
        }

    batch = [
        page("p1", f"{site}/?utm_source=newsletter&utm_medium=email", "", 0),
        page("p2", f"{site}/shoes", f"{site}/", 5),  # internal
        page("p3", f"{site}/", "", 30),  # direct: not a marketing arrival
        page("p4", f"{site}/?gclid=Cj0K", "https://www.google.com/", 50),
    ]
    _post(client, "/v1/batch", {"batch": batch}, raw)
    process_waiting()
    profile = Profile.objects.get(identifiers__value="ajs-7")
    assert (profile.first_touch["channel"], profile.first_touch["source"]) == (
        "email",
        "newsletter",
    )
    assert (profile.last_touch["channel"], profile.last_touch["network"]) == ("paid", "google_ads")
    assert Event.objects.get(message_id="p2").attribution["channel"] == "internal"


def test_a_clock_running_ahead_cannot_pin_the_last_touch(client, web):
    import datetime as dt

    from django.utils import timezone

    from apps.identity.models import Profile

    _, raw = web
    site = "https://www.acme.example"
    ahead = (timezone.now() + dt.timedelta(hours=23)).isoformat()
    _post(
        client,
        "/v1/batch",
        {
            "batch": [
                {
                    "type": "page",
                    "anonymousId": "ts-anon-2",
                    "messageId": "f1",
                    "timestamp": ahead,
                    "context": {"page": {"url": f"{site}/?utm_source=x&utm_campaign=future-pin"}},
                },
            ]
        },
        raw,
    )
    process_waiting()
    _post(
        client,
        "/v1/batch",
        {
            "batch": [
                {
                    "type": "page",
                    "anonymousId": "ts-anon-2",
                    "messageId": "r1",
                    "context": {"page": {"url": f"{site}/?utm_source=x&utm_campaign=real-now"}},
                },
            ]
        },
        raw,
    )
    process_waiting()
    profile = Profile.objects.get(identifiers__value="ts-anon-2")
    assert profile.first_touch["campaign"] == "future-pin"
    assert profile.last_touch["campaign"] == "real-now"


def test_raw_payloads_are_purged_after_the_retention_but_the_facts_stay(client, web, settings):
    import datetime as dt

    from django.utils import timezone

    from apps.events.services import payloads_purge

    _, raw = web
    settings.EVENT_RETENTION_DAYS = 30
    _post(client, "/v1/batch", {"batch": [_track("old"), _track("new")]}, raw)
    process_waiting()
    Event.objects.filter(message_id="old").update(
        received_at=timezone.now() - dt.timedelta(days=31)
    )
    assert payloads_purge() == 1
    old, new = Event.objects.get(message_id="old"), Event.objects.get(message_id="new")
    assert old.payload == {}
    assert (old.name, old.status, old.anonymous_id) == ("Order Completed", "processed", "ajs-1")
    assert old.consent is not None
    assert new.payload["event"] == "Order Completed"


def test_the_health_page_shows_lag_failures_and_quarantine(admin_client, web):
    import datetime as dt

    from django.utils import timezone

    source, _ = web
    now = timezone.now()
    for i, status in enumerate(["received", "failed", "quarantined", "processed"]):
        Event.objects.create(
            source=source,
            message_id=f"h{i}",
            type="track",
            name="X",
            anonymous_id="a",
            payload={},
            status=status,
            error="boom" * (i == 1),
            timestamp=now,
            received_at=now - dt.timedelta(seconds=90),
            processed_at=now,
        )
    page = admin_client.get(reverse("events:health"))
    health = page.context["health"]
    assert (health["waiting"], health["failed"], health["quarantined"]) == (1, 1, 1)
    assert health["lag_seconds"] >= 90
    assert b"boom" in page.content


def test_the_attribution_report_compares_first_and_last_touch_and_exports_csv(
    client, admin_client, web
):
    _, raw = web
    site = "https://www.acme.example"
    batch = []
    for person, first, last in (
        ("a", "utm_medium=email&utm_source=news", "gclid=x1"),
        ("b", "utm_medium=email&utm_source=news", "fbclid=y2"),
        ("c", "gclid=z3", ""),
    ):
        for n, query in enumerate((first, last)):
            if query:
                batch.append(
                    {
                        "type": "page",
                        "anonymousId": f"ajs-{person}",
                        "messageId": f"{person}{n}",
                        "context": {"page": {"url": f"{site}/?{query}"}},
                    }
                )
    _post(client, "/v1/batch", {"batch": batch}, raw)
    process_waiting()
    page = admin_client.get(reverse("events:attribution"), {"dimension": "channel"})
    rows = {r["value"]: (r["first_touch"], r["last_touch"]) for r in page.context["rows"]}
    assert rows == {"email": (2, 0), "paid": (1, 3)}
    by_network = admin_client.get(reverse("events:attribution"), {"dimension": "network"})
    networks = {r["value"]: r["last_touch"] for r in by_network.context["rows"]}
    assert (networks["google_ads"], networks["meta"]) == (2, 1)
    export = {"dimension": "channel", "format": "csv"}
    csv_text = admin_client.get(reverse("events:attribution"), export).content.decode()
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == ["channel", "first_touch", "last_touch"]
    assert ["paid", "1", "3"] in rows
    bad = admin_client.get(
        reverse("events:attribution"), {"start": "2026-05-01", "end": "2026-01-01"}
    )
    assert bad.status_code == 400


def test_events_of_a_suppressed_person_are_refused_at_the_door(client, web):
    """The collection API refuses the messages of a person on the suppression list with a
    reason (by user id or anonymous id, after normalisation)."""
    from apps.erasure.models import Suppression
    from apps.erasure.suppression import digest

    for kind, value in (("user_id", "u-gone"), ("anonymous_id", "ajs-gone")):
        Suppression.objects.create(value_hash=digest(kind, value), type=kind)
    _, raw = web
    body = {
        "batch": [
            _track("keep"),
            _track("by-user", userId=" u-gone "),
            _track("by-cookie", anonymousId="ajs-gone"),
        ]
    }
    response = _post(client, "/v1/batch", body, raw)
    single = _post(client, "/v1/track", _track("alone", anonymousId="ajs-gone"), raw)
    assert response.status_code == 200
    rejected = {r["messageId"]: (r["index"], r["code"]) for r in response.json()["rejected"]}
    assert rejected == {
        "by-user": (1, "subject_suppressed"),
        "by-cookie": (2, "subject_suppressed"),
    }
    assert list(Event.objects.values_list("message_id", flat=True)) == ["keep"]
    assert (single.status_code, single.json()["code"]) == (400, "subject_suppressed")


@pytest.mark.parametrize("spelling", ["writeKey", "write_key"])
def test_no_spelling_of_the_write_key_is_stored_or_shown(client, admin_api, web, spelling):
    # given a source's key sent in the body, in a single call and inside a batch
    _, raw = web
    single = _post(client, "/v1/track", {**_track("m1"), spelling: raw})
    batch = _post(client, "/v1/batch", {"batch": [{**_track("m2"), spelling: raw}]}, raw)
    # then both are stored without the key, and the API's event detail does not show it
    assert (single.status_code, batch.status_code) == (200, 200)
    for event in Event.objects.all():
        assert spelling not in event.payload
        assert raw not in json.dumps(event.payload)
        detail = admin_api.get(f"/api/v1/events/{event.pk}/")
        assert detail.status_code == 200
        assert raw not in detail.content.decode()


def test_the_pixels_app_id_is_not_stored_in_the_payload(client, admin_api, web):
    # given a Snowplow pixel whose app id (aid) is the source's write key
    _, raw = web
    pixel = {"e": "pv", "eid": "px-9", "aid": raw, "duid": "d-9", "url": "https://acme.example/"}
    response = client.get("/i", pixel)
    # then the event is stored, without the key anywhere in its payload or its API detail
    assert response.status_code == 200
    event = Event.objects.get(message_id="px-9")
    assert raw not in json.dumps(event.payload)
    assert raw not in admin_api.get(f"/api/v1/events/{event.pk}/").content.decode()
