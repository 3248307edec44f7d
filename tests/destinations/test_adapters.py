"""Each adapter's requests, sent over HTTP to a fake of its vendor, and its reading of the answers.

The tests ask for no database fixture: adapters only build requests and classify answers, and
``FakeVendor`` answers the way each vendor's documentation says it does.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import jsonschema
import pytest

from apps.destinations.adapters import CATALOG, Adapter, Item, Outbound, Result, Verdict
from apps.destinations.adapters.amplitude import Amplitude
from apps.destinations.adapters.braze import Braze
from apps.destinations.adapters.customerio import CustomerIo
from apps.destinations.adapters.google_ads import GoogleAdsConversions
from apps.destinations.adapters.hubspot import HubSpot
from apps.destinations.adapters.meta import MetaConversions
from apps.destinations.adapters.salesforce import Salesforce
from apps.destinations.adapters.webhook import Webhook
from tests.destinations.vendors import FakeVendor

NOW = datetime.now(UTC).replace(microsecond=0)
STAMP = NOW.isoformat().replace("+00:00", "Z")
BAD_EMAIL = "rejected@invalid.example"


def message(
    event: str = "Order Completed",
    *,
    user_id: str | None = "user-0001",
    anonymous_id: str | None = "anon-0001",
    properties: dict | None = None,
    traits: dict | None = None,
) -> dict:
    """A Segment-shaped message as the pipeline hands it over."""
    return {
        "type": "track" if event else "identify",
        "event": event,
        "properties": properties
        if properties is not None
        else {"revenue": 42.5, "currency": "eur"},
        "traits": traits or {},
        "context": {
            "ip": "203.0.113.9",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
            "page": {"url": "https://shop.example.com/checkout"},
        },
        "timestamp": STAMP,
        "messageId": str(uuid.uuid4()),
        "userId": user_id,
        "anonymousId": anonymous_id,
    }


def event_item(key: int, *, email: str | None = "ana@example.com", fields=None, **ids) -> Item:
    identifiers = {"user_id": "user-0001", "anonymous_id": "anon-0001", **ids}
    if email:
        identifiers["email"] = email
    identifiers = {k: v for k, v in identifiers.items() if v}
    return Item(
        key,
        "event",
        message(user_id=identifiers.get("user_id"), anonymous_id=identifiers.get("anonymous_id")),
        identifiers,
        dict(fields or {}),
    )


def profile_item(key: int, email: str = "ana@example.com", fields=None, **ids) -> Item:
    identifiers = {"email": email, "user_id": f"user-{key:04d}", **ids}
    identifiers = {k: v for k, v in identifiers.items() if v}
    return Item(
        key,
        "profile",
        message("", user_id=identifiers.get("user_id"), traits={"firstname": "Ana"}),
        identifiers,
        dict(fields if fields is not None else {"firstname": "Ana", "lastname": "Silva"}),
    )


def deliver(
    adapter: Adapter, items: list[Item], config: dict, credentials: dict, base_url: str
) -> list[tuple[Outbound, Result]]:
    """Send every request the adapter builds and classify each answer."""
    outcome = []
    with httpx.Client(timeout=10) as client:
        for outbound in adapter.requests(items, config, credentials, base_url):
            answer = client.request(
                outbound.method, outbound.url, headers=outbound.headers, content=outbound.body
            )
            result = adapter.classify(
                answer.status_code, answer.headers, answer.content, outbound.keys
            )
            outcome.append((outbound, result))
    return outcome


def send_one(adapter: Adapter, outbound: Outbound) -> Result:
    with httpx.Client(timeout=10) as client:
        answer = client.request(
            outbound.method, outbound.url, headers=outbound.headers, content=outbound.body
        )
    return adapter.classify(answer.status_code, answer.headers, answer.content, outbound.keys)


@pytest.fixture
def fake() -> Iterator[Callable[[str], FakeVendor]]:
    """Starts fake vendors on loopback ports and stops them after the test."""
    started: list[FakeVendor] = []

    def start(kind: str) -> FakeVendor:
        vendor = FakeVendor(kind).start()
        started.append(vendor)
        return vendor

    yield start
    for vendor in started:
        vendor.stop()


# A working configuration and a few items per adapter, for the checks every adapter must pass.
def sample(kind: str, base_url: str) -> tuple[dict, list[Item]]:
    events = [event_item(1), event_item(2, email="bo@example.com", phone="+351912345678")]
    profiles = [profile_item(3), profile_item(4, email="cy@example.com")]
    config: dict = {
        "webhook": {"url": f"{base_url}/hooks/martech"},
        "hubspot": {"event_name_prefix": "pe123456_"},
        "braze": {},
        "customerio": {},
        "amplitude": {},
        "meta_capi": {"pixel_id": "123456789012345"},
        "google_ads": {"customer_id": "123-456-7890", "conversion_action_id": "987654"},
        "salesforce": {},
    }[kind]
    if kind == "google_ads":
        events = [event_item(1, gclid="Cj0KCQiA-gclid-one"), event_item(2, gclid="Cj0-two")]
        return config, events
    if kind == "meta_capi":
        return config, events
    return config, events + profiles if kind != "salesforce" else profiles


# The vendor APIs sent to event by event (a warehouse is loaded in batches: test_warehouse_load).
ALL_KINDS = sorted(k for k, adapter in CATALOG.items() if not adapter.loads_in_batches)
VENDOR_KINDS = [k for k in ALL_KINDS if k != "webhook"]


# -- the contract every adapter declares ---------------------------------------------------------


@pytest.mark.parametrize("key", ALL_KINDS)
def test_adapter_declares_its_capabilities_and_a_valid_draft_2020_12_config_schema(key):
    adapter = CATALOG[key]
    assert adapter.key == key
    assert adapter.label
    assert adapter.vendor
    assert adapter.supports
    assert adapter.supports <= {"events", "profiles", "deletion"}
    assert isinstance(adapter.batch_size, int)
    assert adapter.batch_size > 0
    assert adapter.rate_limit > 0
    if key != "webhook":  # the webhook posts to the configured URL
        assert adapter.default_base_url.startswith("https://")
        assert adapter.docs_url.startswith("https://")
    schema = adapter.config_schema
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    for name, spec in schema["properties"].items():
        assert spec.get("description"), f"{key}.{name} has no description"
    assert isinstance(adapter.credential_fields, tuple)
    assert adapter.credential_fields


@pytest.mark.parametrize("key", ALL_KINDS)
def test_sample_configuration_satisfies_the_adapter_schema(key):
    config, _ = sample(key, "https://example.com")
    jsonschema.Draft202012Validator(CATALOG[key].config_schema).validate(config)


@pytest.mark.parametrize("key", VENDOR_KINDS)
def test_every_url_is_built_from_the_given_base_url_without_its_trailing_slash(key):
    adapter = CATALOG[key]
    config, items = sample(key, "http://127.0.0.1:9")
    creds = dict.fromkeys(adapter.credential_fields, "x")
    outbound = adapter.requests(items, config, creds, "http://127.0.0.1:9/")
    assert outbound
    for request in outbound:
        assert request.url.startswith("http://127.0.0.1:9/")
        assert "127.0.0.1:9//" not in request.url
    if "deletion" in adapter.supports:
        erase = adapter.deletion(
            {"email": "ana@example.com", "user_id": "user-0001"},
            config,
            creds,
            "http://127.0.0.1:9/",
        )
        assert erase.url.startswith("http://127.0.0.1:9/")
        assert "127.0.0.1:9//" not in erase.url


@pytest.mark.parametrize("key", ALL_KINDS)
def test_every_request_lists_each_item_key_exactly_once(key):
    adapter = CATALOG[key]
    config, items = sample(key, "https://example.com")
    creds = dict.fromkeys(adapter.credential_fields, "x")
    keys = [
        k for o in adapter.requests(items, config, creds, "https://example.com") for k in o.keys
    ]
    assert sorted(keys) == sorted(i.key for i in items)


# -- shared vendor behaviour: success, throttling, outages ---------------------------------------


@pytest.mark.parametrize("key", ALL_KINDS)
def test_vendor_accepts_the_documented_requests_and_they_classify_as_delivered(key, fake):
    vendor = fake(key)
    config, items = sample(key, vendor.base_url)
    outcome = deliver(CATALOG[key], items, config, vendor.credentials, vendor.base_url)
    assert outcome
    for outbound, result in outcome:
        assert result.verdict == Verdict.DELIVERED, (outbound.url, result)
        assert not result.failed
    assert len(vendor.requests) == len(outcome)


@pytest.mark.parametrize("key", ALL_KINDS)
def test_429_with_retry_after_is_a_retry_after_that_many_seconds(key, fake):
    vendor = fake(key)
    vendor.fail_next(1, 429, {"message": "Too many requests"}, {"Retry-After": "12"})
    config, items = sample(key, vendor.base_url)
    (_, result), *_ = deliver(CATALOG[key], items, config, vendor.credentials, vendor.base_url)
    assert result.verdict == Verdict.RETRY
    assert result.status == 429
    assert result.retry_after == 12


@pytest.mark.parametrize("key", ALL_KINDS)
def test_vendor_down_answers_503_and_every_request_is_retried(key, fake):
    vendor = fake(key)
    vendor.down = True
    config, items = sample(key, vendor.base_url)
    outcome = deliver(CATALOG[key], items, config, vendor.credentials, vendor.base_url)
    assert {result.verdict for _, result in outcome} == {Verdict.RETRY}
    assert {result.status for _, result in outcome} == {503}


@pytest.mark.parametrize("key", ALL_KINDS)
def test_wrong_credentials_are_refused_by_the_vendor_and_are_permanent(key, fake):
    vendor = fake(key)
    config, items = sample(key, vendor.base_url)
    wrong = dict.fromkeys(vendor.credentials, "wrong")
    outcome = deliver(CATALOG[key], items, config, wrong, vendor.base_url)
    for _, result in outcome:
        assert result.verdict == Verdict.PERMANENT
        assert result.status in (400, 401, 403)
        assert result.message


# -- webhook -------------------------------------------------------------------------------------


def test_webhook_signature_verifies_with_the_shared_secret(fake):
    vendor = fake("webhook")
    config = {"url": f"{vendor.base_url}/hooks/martech"}
    [(_, result)] = deliver(
        Webhook(), [event_item(1), profile_item(2)], config, vendor.credentials, vendor.base_url
    )
    assert result.verdict == Verdict.DELIVERED
    [seen] = vendor.requests
    assert seen.headers["x-martech-signature"].startswith("t=")
    assert [entry["kind"] for entry in seen.body["batch"]] == ["event", "profile"]


def test_webhook_entries_name_who_they_are_about_even_without_a_user_id(fake):
    vendor = fake("webhook")
    config = {"url": f"{vendor.base_url}/hooks/martech"}
    synced = profile_item(1, user_id="")  # a synced row keyed by email only
    deliver(Webhook(), [synced], config, vendor.credentials, vendor.base_url)
    [seen] = vendor.requests
    [entry] = seen.body["batch"]
    assert entry["userId"] is None
    assert entry["identifiers"] == {"email": "ana@example.com"}


def test_webhook_with_the_wrong_secret_is_refused_as_permanent(fake):
    vendor = fake("webhook")
    config = {"url": f"{vendor.base_url}/hooks/martech"}
    [(_, result)] = deliver(
        Webhook(), [event_item(1)], config, {"signing_secret": "other"}, vendor.base_url
    )
    assert result.verdict == Verdict.PERMANENT
    assert "signature" in result.message


def test_webhook_erasure_posts_a_signed_delete_to_the_deletion_url(fake):
    vendor = fake("webhook")
    config = {
        "url": f"{vendor.base_url}/hooks/martech",
        "deletion_url": f"{vendor.base_url}/hooks/martech/erasure",
    }
    outbound = Webhook().deletion(
        {"email": "ana@example.com"}, config, vendor.credentials, vendor.base_url
    )
    assert send_one(Webhook(), outbound).verdict == Verdict.DELIVERED
    [seen] = vendor.requests
    assert seen.path == "/hooks/martech/erasure"
    assert seen.body == {"type": "delete", "identifiers": {"email": "ana@example.com"}}


# -- HubSpot -------------------------------------------------------------------------------------


def test_hubspot_profiles_upsert_contacts_by_email_with_the_private_app_token(fake):
    vendor = fake("hubspot")
    items = [profile_item(1, fields={"firstname": "Ana"}), profile_item(2, "bo@example.com")]
    [(outbound, result)] = deliver(HubSpot(), items, {}, vendor.credentials, vendor.base_url)
    assert result.verdict == Verdict.DELIVERED
    [seen] = vendor.requests
    assert (seen.method, seen.path) == ("POST", "/crm/v3/objects/contacts/batch/upsert")
    assert seen.headers["authorization"] == "Bearer pat-na1-test-token"
    first, second = seen.body["inputs"]
    assert first["idProperty"] == "email"
    assert first["id"] == "ana@example.com"
    assert first["properties"] == {"firstname": "Ana", "email": "ana@example.com"}
    assert first["objectWriteTraceId"] == "1"
    assert second["id"] == "bo@example.com"
    assert outbound.keys == (1, 2)


def test_hubspot_batch_upsert_splits_at_100_contacts(fake):
    vendor = fake("hubspot")
    items = [profile_item(n, f"p{n}@example.com") for n in range(250)]
    outcome = deliver(HubSpot(), items, {}, vendor.credentials, vendor.base_url)
    assert [len(seen.body["inputs"]) for seen in vendor.requests] == [100, 100, 50]
    assert [len(o.keys) for o, _ in outcome] == [100, 100, 50]
    assert all(r.verdict == Verdict.DELIVERED for _, r in outcome)


def test_hubspot_207_multi_status_fails_only_the_refused_contacts(fake):
    vendor = fake("hubspot")
    items = [profile_item(1), profile_item(2, BAD_EMAIL), profile_item(3, "cy@example.com")]
    [(_, result)] = deliver(HubSpot(), items, {}, vendor.credentials, vendor.base_url)
    assert result.status == 207
    assert result.verdict == Verdict.DELIVERED
    assert set(result.failed) == {2}
    verdict, why = result.failed[2]
    assert verdict == Verdict.PERMANENT
    assert "VALIDATION_ERROR" in why


def test_hubspot_events_go_one_by_one_as_custom_behavioral_events(fake):
    vendor = fake("hubspot")
    items = [
        event_item(1, fields={"order_total": 42.5}),
        event_item(2, email="bo@example.com", hubspotutk="utk-cookie-2"),
    ]
    outcome = deliver(
        HubSpot(), items, {"event_name_prefix": "pe123456_"}, vendor.credentials, vendor.base_url
    )
    assert [r.verdict for _, r in outcome] == [Verdict.DELIVERED, Verdict.DELIVERED]
    assert [r.status for _, r in outcome] == [204, 204]
    first, second = vendor.requests
    assert (first.method, first.path) == ("POST", "/events/v3/send")
    assert first.body["eventName"] == "pe123456_order_completed"
    assert first.body["email"] == "ana@example.com"
    assert first.body["occurredAt"] == STAMP
    assert first.body["properties"] == {"order_total": 42.5}
    assert first.body["uuid"] == items[0].message["messageId"]
    assert second.body["utk"] == "utk-cookie-2"
    assert [o.keys for o, _ in outcome] == [(1,), (2,)]


def test_hubspot_erasure_is_a_gdpr_delete_by_email(fake):
    vendor = fake("hubspot")
    outbound = HubSpot().deletion(
        {"email": "ana@example.com"}, {}, vendor.credentials, vendor.base_url
    )
    result = send_one(HubSpot(), outbound)
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 204)
    [seen] = vendor.requests
    assert (seen.method, seen.path) == ("POST", "/crm/v3/objects/contacts/gdpr-delete")
    assert seen.body == {"objectId": "ana@example.com", "idProperty": "email"}


def test_hubspot_wrong_token_is_permanent_with_hubspot_message(fake):
    vendor = fake("hubspot")
    [(_, result)] = deliver(
        HubSpot(), [profile_item(1)], {}, {"access_token": "nope"}, vendor.base_url
    )
    assert (result.verdict, result.status) == (Verdict.PERMANENT, 401)
    assert "Authentication credentials not found" in result.message


def test_hubspot_secondly_rate_limit_without_retry_after_waits_ten_seconds(fake):
    vendor = fake("hubspot")
    vendor.fail_next(
        1,
        429,
        {
            "status": "error",
            "message": "You have reached your secondly limit.",
            "errorType": "RATE_LIMIT",
            "policyName": "SECONDLY",
        },
    )
    [(_, result)] = deliver(HubSpot(), [profile_item(1)], {}, vendor.credentials, vendor.base_url)
    assert (result.verdict, result.retry_after) == (Verdict.RETRY, 10.0)


# -- Braze ---------------------------------------------------------------------------------------


def test_braze_track_sends_attributes_and_events_addressed_by_external_id_email_or_alias(fake):
    vendor = fake("braze")
    items = [
        profile_item(1, fields={"first_name": "Ana"}),
        event_item(2, fields={"coupon": "SPRING"}),
        event_item(3, user_id=None, email="bo@example.com"),
        event_item(4, user_id=None, email=None, anonymous_id="anon-0004"),
    ]
    outcome = deliver(Braze(), items, {}, vendor.credentials, vendor.base_url)
    assert [(r.verdict, r.status) for _, r in outcome] == [(Verdict.DELIVERED, 201)] * 2
    attributes, events = vendor.requests
    assert {attributes.path, events.path} == {"/users/track"}
    assert attributes.headers["authorization"] == "Bearer braze-rest-api-key"
    assert attributes.body == {"attributes": [{"first_name": "Ana", "external_id": "user-0001"}]}
    by_id, by_email, by_alias = events.body["events"]
    assert by_id["external_id"] == "user-0001"
    assert by_id["name"] == "Order Completed"
    assert by_id["time"] == STAMP
    assert by_id["properties"] == {"revenue": 42.5, "currency": "eur", "coupon": "SPRING"}
    assert by_email["email"] == "bo@example.com"
    assert "external_id" not in by_email
    assert by_alias["user_alias"] == {"alias_name": "anon-0004", "alias_label": "anonymous_id"}
    assert by_alias["_update_existing_only"] is False
    assert [o.keys for o, _ in outcome] == [(1,), (2, 3, 4)]


def test_braze_splits_each_array_at_75_objects(fake):
    vendor = fake("braze")
    items = [event_item(n) for n in range(160)]
    outcome = deliver(Braze(), items, {}, vendor.credentials, vendor.base_url)
    assert [len(seen.body["events"]) for seen in vendor.requests] == [75, 75, 10]
    assert all(r.verdict == Verdict.DELIVERED for _, r in outcome)


def test_braze_non_fatal_errors_fail_only_the_objects_they_index(fake):
    vendor = fake("braze")
    items = [
        event_item(1, user_id=None),
        event_item(2, user_id=None, email=BAD_EMAIL),
        event_item(3, user_id=None, email="cy@example.com"),
    ]
    [(_, result)] = deliver(Braze(), items, {}, vendor.credentials, vendor.base_url)
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 201)
    assert result.failed == {2: (Verdict.PERMANENT, "Invalid email address")}


def test_braze_fatal_400_is_permanent_with_the_braze_message(fake):
    vendor = fake("braze")
    vendor.fail_next(1, 400, {"message": "Invalid 'time' field in events[0]"})
    [(_, result)] = deliver(Braze(), [event_item(1)], {}, vendor.credentials, vendor.base_url)
    assert (result.verdict, result.status) == (Verdict.PERMANENT, 400)
    assert result.message == "Invalid 'time' field in events[0]"


def test_braze_429_waits_until_x_ratelimit_reset(fake):
    vendor = fake("braze")
    reset = int(time.time()) + 20
    vendor.fail_next(1, 429, {"message": "rate limited"}, {"X-RateLimit-Reset": str(reset)})
    [(_, result)] = deliver(Braze(), [event_item(1)], {}, vendor.credentials, vendor.base_url)
    assert result.verdict == Verdict.RETRY
    assert 15 <= result.retry_after <= 20


def test_braze_erasure_deletes_by_external_id_else_by_email(fake):
    vendor = fake("braze")
    by_id = Braze().deletion(
        {"user_id": "user-0001", "email": "ana@example.com"},
        {},
        vendor.credentials,
        vendor.base_url,
    )
    by_email = Braze().deletion(
        {"email": "ana@example.com"}, {}, vendor.credentials, vendor.base_url
    )
    assert send_one(Braze(), by_id).verdict == Verdict.DELIVERED
    assert send_one(Braze(), by_email).verdict == Verdict.DELIVERED
    first, second = vendor.requests
    assert (first.method, first.path) == ("POST", "/users/delete")
    assert first.body == {"external_ids": ["user-0001"]}
    assert second.body == {
        "email_addresses": [
            {"email": "ana@example.com", "prioritization": ["most_recently_updated"]}
        ]
    }


# -- Customer.io ---------------------------------------------------------------------------------


def test_customerio_batch_sends_person_identify_and_event_actions_with_basic_auth(fake):
    vendor = fake("customerio")
    items = [profile_item(1, fields={"first_name": "Ana"}), event_item(2, user_id=None)]
    [(outbound, result)] = deliver(CustomerIo(), items, {}, vendor.credentials, vendor.base_url)
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 200)
    [seen] = vendor.requests
    assert (seen.method, seen.path) == ("POST", "/api/v2/batch")
    expected = "Basic " + base64.b64encode(b"cio-site:cio-track-key").decode()
    assert seen.headers["authorization"] == expected
    identify, event = seen.body["batch"]
    assert identify == {
        "type": "person",
        "identifiers": {"id": "user-0001"},
        "action": "identify",
        "attributes": {"first_name": "Ana"},
    }
    assert event["identifiers"] == {"email": "ana@example.com"}
    assert event["action"] == "event"
    assert event["name"] == "Order Completed"
    assert event["timestamp"] == int(NOW.timestamp())
    assert event["attributes"] == {"revenue": 42.5, "currency": "eur"}
    assert outbound.keys == (1, 2)


def test_customerio_splits_at_100_entries(fake):
    vendor = fake("customerio")
    items = [event_item(n) for n in range(150)]
    outcome = deliver(CustomerIo(), items, {}, vendor.credentials, vendor.base_url)
    assert [len(seen.body["batch"]) for seen in vendor.requests] == [100, 50]
    assert all(r.verdict == Verdict.DELIVERED for _, r in outcome)


def test_customerio_keeps_every_request_under_500_kb(fake):
    vendor = fake("customerio")
    items = [event_item(n, fields={"notes": "x" * 20_000}) for n in range(60)]
    outcome = deliver(CustomerIo(), items, {}, vendor.credentials, vendor.base_url)
    assert len(outcome) > 1
    assert all(len(o.body) <= 500_000 for o, _ in outcome)
    assert sum(len(seen.body["batch"]) for seen in vendor.requests) == 60
    assert all(r.verdict == Verdict.DELIVERED for _, r in outcome)


def test_customerio_207_fails_the_entries_named_by_batch_index(fake):
    vendor = fake("customerio")
    items = [event_item(1, user_id=None), event_item(2, user_id=None, email=BAD_EMAIL)]
    [(_, result)] = deliver(CustomerIo(), items, {}, vendor.credentials, vendor.base_url)
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 207)
    assert set(result.failed) == {2}
    assert result.failed[2][0] == Verdict.PERMANENT
    assert "identifiers.email" in result.failed[2][1]


def test_customerio_wrong_keys_are_permanent_with_the_vendor_error(fake):
    vendor = fake("customerio")
    wrong = {"site_id": "cio-site", "api_key": "wrong"}
    [(_, result)] = deliver(CustomerIo(), [event_item(1)], {}, wrong, vendor.base_url)
    assert (result.verdict, result.status) == (Verdict.PERMANENT, 401)
    assert result.message == "Unauthorized request"


def test_customerio_erasure_is_a_delete_action_in_a_batch(fake):
    vendor = fake("customerio")
    outbound = CustomerIo().deletion(
        {"user_id": "user-0001", "email": "ana@example.com"},
        {},
        vendor.credentials,
        vendor.base_url,
    )
    assert send_one(CustomerIo(), outbound).verdict == Verdict.DELIVERED
    [seen] = vendor.requests
    assert seen.path == "/api/v2/batch"
    assert seen.body == {
        "batch": [{"type": "person", "identifiers": {"id": "user-0001"}, "action": "delete"}]
    }


# -- Amplitude -----------------------------------------------------------------------------------


def test_amplitude_httpapi_carries_the_api_key_and_documented_event_fields(fake):
    vendor = fake("amplitude")
    items = [event_item(1, fields={"plan": "pro"}), profile_item(2, fields={"plan": "team"})]
    [(_, result)] = deliver(Amplitude(), items, {}, vendor.credentials, vendor.base_url)
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 200)
    [seen] = vendor.requests
    assert (seen.method, seen.path) == ("POST", "/2/httpapi")
    assert seen.body["api_key"] == "amp-project-key"
    event, identify = seen.body["events"]
    assert event == {
        "time": int(NOW.timestamp() * 1000),
        "user_id": "user-0001",
        "device_id": "anon-0001",
        "insert_id": items[0].message["messageId"],
        "ip": "203.0.113.9",
        "event_type": "Order Completed",
        "event_properties": {"revenue": 42.5, "currency": "eur"},
        "user_properties": {"plan": "pro"},
    }
    assert identify["event_type"] == "$identify"
    assert identify["user_properties"] == {"$set": {"plan": "team"}}


def test_amplitude_splits_at_1000_events(fake):
    vendor = fake("amplitude")
    items = [event_item(n) for n in range(2500)]
    outcome = deliver(Amplitude(), items, {}, vendor.credentials, vendor.base_url)
    assert [len(seen.body["events"]) for seen in vendor.requests] == [1000, 1000, 500]
    assert all(r.verdict == Verdict.DELIVERED for _, r in outcome)


def test_amplitude_400_fails_the_listed_events_and_sends_the_rest_again(fake):
    vendor = fake("amplitude")
    items = [event_item(1), event_item(2, user_id="u2", anonymous_id=None), event_item(3)]
    [(_, result)] = deliver(Amplitude(), items, {}, vendor.credentials, vendor.base_url)
    assert result.status == 400
    assert result.verdict == Verdict.RETRY
    assert set(result.failed) == {2}
    assert result.failed[2][0] == Verdict.PERMANENT
    assert "invalid user_id" in result.failed[2][1]
    assert "[1]" in result.message


def test_amplitude_min_id_length_option_lets_short_ids_through(fake):
    vendor = fake("amplitude")
    items = [event_item(1, user_id="u1", anonymous_id=None)]
    [(_, result)] = deliver(
        Amplitude(), items, {"min_id_length": 1}, vendor.credentials, vendor.base_url
    )
    assert result.verdict == Verdict.DELIVERED
    assert vendor.requests[0].body["options"] == {"min_id_length": 1}


def test_amplitude_invalid_api_key_is_permanent_with_the_amplitude_error(fake):
    vendor = fake("amplitude")
    [(_, result)] = deliver(
        Amplitude(), [event_item(1)], {}, {"api_key": "nope", "secret_key": "x"}, vendor.base_url
    )
    assert (result.verdict, result.status) == (Verdict.PERMANENT, 400)
    assert result.message == "Invalid API key: nope"
    assert not result.failed


def test_amplitude_throttling_without_retry_after_waits_30_seconds(fake):
    vendor = fake("amplitude")
    vendor.fail_next(
        1,
        429,
        {
            "code": 429,
            "error": "Too many requests for some devices and users",
            "throttled_events": [0],
        },
    )
    [(_, result)] = deliver(Amplitude(), [event_item(1)], {}, vendor.credentials, vendor.base_url)
    assert (result.verdict, result.retry_after) == (Verdict.RETRY, 30.0)


def test_amplitude_erasure_uses_the_user_privacy_api_with_basic_auth(fake):
    vendor = fake("amplitude")
    outbound = Amplitude().deletion(
        {"user_id": "user-0001"},
        {"requester": "dpo@example.com"},
        vendor.credentials,
        vendor.base_url,
    )
    assert send_one(Amplitude(), outbound).verdict == Verdict.DELIVERED
    [seen] = vendor.requests
    assert (seen.method, seen.path) == ("POST", "/api/2/deletions/users")
    assert (
        seen.headers["authorization"]
        == "Basic " + base64.b64encode(b"amp-project-key:amp-secret-key").decode()
    )
    assert seen.body == {"user_ids": ["user-0001"], "requester": "dpo@example.com"}


@pytest.mark.parametrize(
    ("ingestion", "privacy"),
    [
        ("https://api2.amplitude.com", "https://amplitude.com"),
        ("https://api.eu.amplitude.com", "https://analytics.eu.amplitude.com"),
    ],
)
def test_amplitude_erasure_goes_to_the_privacy_host_of_the_region(ingestion, privacy):
    outbound = Amplitude().deletion({"user_id": "user-0001"}, {}, {"api_key": "k"}, ingestion)
    assert outbound.url == f"{privacy}/api/2/deletions/users"


# -- Meta Conversions API ------------------------------------------------------------------------


def test_meta_events_carry_sha256_of_normalised_identifiers_never_the_raw_values(fake):
    vendor = fake("meta_capi")
    config = {
        "pixel_id": "123456789012345",
        "test_event_code": "TEST123",
        "event_names": {"Order Completed": "Purchase"},
    }
    item = event_item(1, phone="+351912345678", fields={"fbp": "fb.1.1700000000.123", "tier": "b"})
    [(_, result)] = deliver(MetaConversions(), [item], config, vendor.credentials, vendor.base_url)
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 200)
    [seen] = vendor.requests
    assert (seen.method, seen.path) == ("POST", "/v21.0/123456789012345/events")
    assert seen.query["access_token"] == ["EAAB-test-token"]
    assert seen.body["test_event_code"] == "TEST123"
    [event] = seen.body["data"]
    user = event["user_data"]
    assert user["em"] == [hashlib.sha256(b"ana@example.com").hexdigest()]
    assert user["ph"] == [hashlib.sha256(b"351912345678").hexdigest()]
    assert user["external_id"] == [hashlib.sha256(b"user-0001").hexdigest()]
    assert user["fbp"] == "fb.1.1700000000.123"
    assert user["client_ip_address"] == "203.0.113.9"
    assert b"ana@example.com" not in seen.raw
    assert b"+351912345678" not in seen.raw
    assert event["event_name"] == "Purchase"
    assert event["event_time"] == int(NOW.timestamp())
    assert event["event_id"] == item.message["messageId"]
    assert event["action_source"] == "website"
    assert event["event_source_url"] == "https://shop.example.com/checkout"
    assert event["custom_data"] == {"revenue": 42.5, "currency": "eur", "tier": "b"}


def test_meta_hashes_mixed_case_email_as_lower_case():
    item = event_item(1, email="Ana@Example.COM")
    [outbound] = MetaConversions().requests(
        [item], {"pixel_id": "1"}, {"access_token": "t"}, "https://graph.facebook.com"
    )
    assert hashlib.sha256(b"ana@example.com").hexdigest().encode() in outbound.body


def test_meta_splits_at_1000_events(fake):
    vendor = fake("meta_capi")
    items = [event_item(n) for n in range(1500)]
    outcome = deliver(
        MetaConversions(), items, {"pixel_id": "1"}, vendor.credentials, vendor.base_url
    )
    assert [len(seen.body["data"]) for seen in vendor.requests] == [1000, 500]
    assert all(r.verdict == Verdict.DELIVERED for _, r in outcome)


def test_meta_invalid_token_is_permanent_with_the_graph_error_message(fake):
    vendor = fake("meta_capi")
    [(_, result)] = deliver(
        MetaConversions(),
        [event_item(1)],
        {"pixel_id": "1"},
        {"access_token": "bad"},
        vendor.base_url,
    )
    assert (result.verdict, result.status) == (Verdict.PERMANENT, 400)
    assert result.message == "(190) Invalid OAuth access token - Cannot parse access token"


def test_meta_throttling_error_codes_are_retried(fake):
    vendor = fake("meta_capi")
    vendor.fail_next(
        1,
        400,
        {"error": {"message": "User request limit reached", "code": 17, "type": "OAuthException"}},
    )
    [(_, result)] = deliver(
        MetaConversions(), [event_item(1)], {"pixel_id": "1"}, vendor.credentials, vendor.base_url
    )
    assert (result.verdict, result.status) == (Verdict.RETRY, 400)


# -- Google Ads ----------------------------------------------------------------------------------


GOOGLE_CONFIG = {
    "customer_id": "123-456-7890",
    "conversion_action_id": "987654",
    "login_customer_id": "111-222-3333",
}


def test_google_ads_uploads_click_conversions_with_developer_token_and_partial_failure(fake):
    vendor = fake("google_ads")
    item = event_item(1, gclid="Cj0KCQiA-gclid-one")
    [(_, result)] = deliver(
        GoogleAdsConversions(), [item], GOOGLE_CONFIG, vendor.credentials, vendor.base_url
    )
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 200)
    [seen] = vendor.requests
    assert (seen.method, seen.path) == ("POST", "/v26/customers/1234567890:uploadClickConversions")
    assert seen.headers["authorization"] == "Bearer ya29.test-token"
    assert seen.headers["developer-token"] == "dev-token-123"
    assert seen.headers["login-customer-id"] == "1112223333"
    assert seen.body["partialFailure"] is True
    assert seen.body["conversions"] == [
        {
            "gclid": "Cj0KCQiA-gclid-one",
            "conversionAction": "customers/1234567890/conversionActions/987654",
            "conversionDateTime": NOW.strftime("%Y-%m-%d %H:%M:%S+00:00"),
            "conversionValue": 42.5,
            "currencyCode": "EUR",
        }
    ]


def test_google_ads_partial_failure_error_fails_the_conversion_at_that_index(fake):
    vendor = fake("google_ads")
    items = [
        event_item(1, gclid="Cj0-good-1"),
        event_item(2, gclid="bad-gclid"),
        event_item(3, gclid="Cj0-good-3"),
    ]
    [(_, result)] = deliver(
        GoogleAdsConversions(), items, GOOGLE_CONFIG, vendor.credentials, vendor.base_url
    )
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 200)
    assert set(result.failed) == {2}
    verdict, why = result.failed[2]
    assert verdict == Verdict.PERMANENT
    assert "UNPARSEABLE_GCLID" in why


def test_google_ads_splits_at_2000_conversions(fake):
    vendor = fake("google_ads")
    items = [event_item(n, gclid=f"Cj0-{n}") for n in range(4500)]
    outcome = deliver(
        GoogleAdsConversions(), items, GOOGLE_CONFIG, vendor.credentials, vendor.base_url
    )
    assert [len(seen.body["conversions"]) for seen in vendor.requests] == [2000, 2000, 500]
    assert all(r.verdict == Verdict.DELIVERED for _, r in outcome)


def test_google_ads_invalid_developer_token_is_permanent(fake):
    vendor = fake("google_ads")
    creds = {**vendor.credentials, "developer_token": "revoked"}
    [(_, result)] = deliver(
        GoogleAdsConversions(), [event_item(1, gclid="Cj0")], GOOGLE_CONFIG, creds, vendor.base_url
    )
    assert (result.verdict, result.status) == (Verdict.PERMANENT, 403)
    assert result.message == "PERMISSION_DENIED: The developer token is not valid."


def test_google_ads_quota_exhaustion_is_retried_after_the_retry_delay(fake):
    vendor = fake("google_ads")
    vendor.fail_next(
        1,
        429,
        {
            "error": {
                "code": 429,
                "status": "RESOURCE_EXHAUSTED",
                "message": "Too many requests.",
                "details": [
                    {"errors": [{"details": {"quotaErrorDetails": {"retryDelay": "45s"}}}]}
                ],
            }
        },
    )
    [(_, result)] = deliver(
        GoogleAdsConversions(),
        [event_item(1, gclid="Cj0")],
        GOOGLE_CONFIG,
        vendor.credentials,
        vendor.base_url,
    )
    assert (result.verdict, result.retry_after) == (Verdict.RETRY, 45.0)


# -- Salesforce ----------------------------------------------------------------------------------


def test_salesforce_profiles_upsert_with_sobject_collections_by_external_id(fake):
    vendor = fake("salesforce")
    items = [profile_item(1, fields={"FirstName": "Ana", "LastName": "Silva"})]
    [(_, result)] = deliver(Salesforce(), items, {}, vendor.credentials, vendor.base_url)
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 200)
    [seen] = vendor.requests
    assert (seen.method, seen.path) == (
        "PATCH",
        "/services/data/v60.0/composite/sobjects/Contact/Email",
    )
    assert seen.headers["authorization"] == "Bearer 00Dxx0000000001!test"
    assert seen.body == {
        "allOrNone": False,
        "records": [
            {
                "attributes": {"type": "Contact"},
                "FirstName": "Ana",
                "LastName": "Silva",
                "Email": "ana@example.com",
            }
        ],
    }


def test_salesforce_per_record_errors_fail_only_their_items(fake):
    vendor = fake("salesforce")
    items = [profile_item(1), profile_item(2, BAD_EMAIL), profile_item(3, "cy@example.com")]
    [(_, result)] = deliver(Salesforce(), items, {}, vendor.credentials, vendor.base_url)
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 200)
    assert set(result.failed) == {2}
    assert result.failed[2][0] == Verdict.PERMANENT
    assert result.failed[2][1].startswith("INVALID_EMAIL_ADDRESS")


def test_salesforce_lock_contention_on_a_record_is_retried():
    body = b'[{"success": false, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "x"}]}]'
    result = Salesforce().classify(200, httpx.Headers(), body, (7,))
    assert result.failed == {7: (Verdict.RETRY, "UNABLE_TO_LOCK_ROW: x")}


def test_salesforce_splits_at_200_records(fake):
    vendor = fake("salesforce")
    items = [profile_item(n, f"p{n}@example.com") for n in range(450)]
    outcome = deliver(Salesforce(), items, {}, vendor.credentials, vendor.base_url)
    assert [len(seen.body["records"]) for seen in vendor.requests] == [200, 200, 50]
    assert all(r.verdict == Verdict.DELIVERED for _, r in outcome)


def test_salesforce_invalid_session_is_permanent(fake):
    vendor = fake("salesforce")
    [(_, result)] = deliver(
        Salesforce(), [profile_item(1)], {}, {"access_token": "expired"}, vendor.base_url
    )
    assert (result.verdict, result.status) == (Verdict.PERMANENT, 401)
    assert result.message == "INVALID_SESSION_ID: Session expired or invalid"


def test_salesforce_request_limit_exceeded_is_retried(fake):
    vendor = fake("salesforce")
    vendor.fail_next(
        1,
        403,
        [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}],
    )
    [(_, result)] = deliver(
        Salesforce(), [profile_item(1)], {}, vendor.credentials, vendor.base_url
    )
    assert (result.verdict, result.status) == (Verdict.RETRY, 403)


def test_salesforce_events_are_sent_only_when_an_event_object_is_configured(fake):
    vendor = fake("salesforce")
    assert "events" not in Salesforce().supports_for({})
    assert Salesforce().requests([event_item(1)], {}, vendor.credentials, vendor.base_url) == []
    config = {"event_object": "Web_Event__e"}
    assert "events" in Salesforce().supports_for(config)
    item = event_item(1, fields={"Event_Name__c": "Order Completed"})
    [(outbound, result)] = deliver(
        Salesforce(), [item], config, vendor.credentials, vendor.base_url
    )
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 201)
    [seen] = vendor.requests
    assert (seen.method, seen.path) == ("POST", "/services/data/v60.0/sobjects/Web_Event__e")
    assert seen.body == {"Event_Name__c": "Order Completed"}
    assert outbound.keys == (1,)


def test_salesforce_erasure_deletes_the_record_by_its_external_id(fake):
    vendor = fake("salesforce")
    outbound = Salesforce().deletion(
        {"email": "ana+x@example.com"}, {}, vendor.credentials, vendor.base_url
    )
    result = send_one(Salesforce(), outbound)
    assert (result.verdict, result.status) == (Verdict.DELIVERED, 204)
    assert outbound.method == "DELETE"
    assert outbound.url.endswith(
        "/services/data/v60.0/sobjects/Contact/Email/ana%2Bx%40example.com"
    )
    assert vendor.requests[0].path.startswith("/services/data/v60.0/sobjects/Contact/Email/")


def test_salesforce_uses_the_instance_url_when_no_base_url_override_is_set():
    config = {"instance_url": "https://acme.my.salesforce.com"}
    [outbound] = Salesforce().requests(
        [profile_item(1)], config, {"access_token": "t"}, Salesforce.default_base_url
    )
    assert outbound.url.startswith("https://acme.my.salesforce.com/services/data/v60.0/")
