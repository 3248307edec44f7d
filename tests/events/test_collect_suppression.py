"""An erased person is refused by every identifier a message names (not only userId and
anonymousId), by the Segment and the Snowplow APIs alike; an event that slipped in before the
erasure is deleted by the pipeline instead of linking her again."""

import base64
import json

import pytest

from apps.consent.defaults import ensure_default_purposes
from apps.destinations.models import Delivery
from apps.erasure.models import Suppression
from apps.erasure.suppression import digest
from apps.events import services
from apps.events.models import Event
from apps.events.pipeline import process_waiting
from apps.identity.models import Identifier

ENVELOPE = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
LENA = {
    "email": "lena.fischer@example.de",
    "user_id": "cus_48213",
    "anonymous_id": "ajs-5f1c9e2a",
    "phone": "+4915123456789",
    "device_id": "6d92078a-8246-4ba4-ae5b-76104861e7dc",
}


def _erase_lena() -> None:
    """What an approved erasure leaves: her identifiers on the suppression list."""
    for kind, value in LENA.items():
        Suppression.objects.create(value_hash=digest(kind, value), type=kind)


@pytest.fixture
def web(admin):
    ensure_default_purposes()
    return services.source_create(actor=admin, name="Web", rate_limit=1000)


def _batch(client, raw, messages):
    auth = base64.b64encode(f"{raw}:".encode()).decode()
    return client.post(
        "/v1/batch",
        json.dumps({"batch": messages}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


def test_a_message_naming_an_erased_person_anywhere_is_refused_and_the_others_kept(client, web):
    _, raw = web
    _erase_lena()
    messages = [
        {
            "type": "identify",
            "messageId": "m0",
            "anonymousId": "ajs-brand-new-visitor-77",
            "traits": {"email": " Lena.Fischer@Example.DE "},
        },
        {
            "type": "track",
            "messageId": "m1",
            "event": "Viewed",
            "anonymousId": "ajs-new-2",
            "context": {"traits": {"email": "lena.fischer@example.de"}},
        },
        {
            "type": "alias",
            "messageId": "m2",
            "previousId": "ajs-5f1c9e2a",
            "userId": "cus_new_99999",
        },
        {
            "type": "identify",
            "messageId": "m3",
            "userId": "cus_new_3",
            "traits": {"phone": "+49 151 23456789"},
        },
        {
            "type": "track",
            "messageId": "m4",
            "event": "Opened",
            "anonymousId": "ajs-new-4",
            "context": {"device": {"id": "6D92078A-8246-4BA4-AE5B-76104861E7DC"}},
        },
        {
            "type": "track",
            "messageId": "ok",
            "event": "Viewed",
            "anonymousId": "ajs-someone",
            "traits": {"email": "someone@example.de"},
        },
    ]

    response = _batch(client, raw, messages)

    assert response.status_code == 200
    rejected = response.json()["rejected"]
    assert [(r["messageId"], r["code"]) for r in rejected] == [
        (f"m{i}", "subject_suppressed") for i in range(5)
    ]
    assert list(Event.objects.values_list("message_id", flat=True)) == ["ok"]


def test_snowplow_events_are_refused_by_any_of_the_trackers_user_ids(client, web):
    _, key = web
    _erase_lena()
    events = [
        {"e": "pv", "eid": "sp-1", "aid": key, "duid": "d-fresh", "nuid": "ajs-5f1c9e2a"},
        {"e": "pv", "eid": "sp-2", "aid": key, "duid": "d-other", "nuid": "n-other"},
    ]
    response = client.post(
        "/com.snowplowanalytics.snowplow/tp2",
        json.dumps({"schema": ENVELOPE, "data": events}),
        content_type="application/json",
    )
    pixel = client.get(
        "/i", {"e": "pv", "eid": "px-1", "aid": key, "duid": "d-fresh-2", "nuid": "ajs-5f1c9e2a"}
    )

    assert response.status_code == 200
    assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [
        (0, "subject_suppressed")
    ]
    assert pixel.status_code == 400
    assert pixel.json()["code"] == "subject_suppressed"
    stored = Event.objects.get()
    assert stored.message_id == "sp-2"
    assert stored.payload["context"]["snowplow_ids"] == {
        "domain_userid": "d-other",
        "network_userid": "n-other",
    }


def test_an_event_stored_before_the_erasure_is_deleted_by_the_pipeline_and_links_nothing(
    client, web
):
    _, raw = web
    assert (
        _batch(
            client,
            raw,
            [
                {
                    "type": "identify",
                    "messageId": "early",
                    "anonymousId": "ajs-brand-new-visitor-77",
                    "traits": {"email": "lena.fischer@example.de"},
                },
                {
                    "type": "identify",
                    "messageId": "other",
                    "anonymousId": "ajs-someone",
                    "traits": {"email": "someone@example.de"},
                },
            ],
        ).status_code
        == 200
    )
    _erase_lena()  # approved while the events wait for the pipeline

    process_waiting()

    assert list(Event.objects.values_list("message_id", "status")) == [("other", "processed")]
    assert set(Identifier.objects.values_list("type", "value")) == {
        ("anonymous_id", "ajs-someone"),
        ("email", "someone@example.de"),
    }
    assert not Delivery.objects.filter(message_id="early").exists()


def test_an_erased_email_anywhere_in_a_message_is_refused(client, web):
    _, raw = web
    _erase_lena()
    context_entity = {
        "schema": "iglu:com.acme/user/jsonschema/1-0-0",
        "data": {"email": "Lena.Fischer@example.de"},
    }
    messages = [
        {
            "type": "track",
            "messageId": "p1",
            "event": "X",
            "anonymousId": "ajs-new-81",
            "properties": {"email": "lena.fischer@example.de"},
        },
        {
            "type": "track",
            "messageId": "p2",
            "event": "X",
            "anonymousId": "ajs-new-85",
            "context": {"externalIds": [{"id": "lena.fischer@example.de", "type": "email"}]},
        },
        {
            "type": "track",
            "messageId": "p3",
            "event": "X",
            "anonymousId": "ajs-new-86",
            "context": {"externalIds": [{"id": "cus_48213", "type": "user_id"}]},
        },
        {"type": "identify", "messageId": "p4", "userId": "lena.fischer@example.de"},
        {
            "type": "track",
            "messageId": "p5",
            "event": "X",
            "anonymousId": "ajs-new-87",
            "properties": {"contexts": [context_entity]},
        },
        {
            "type": "track",
            "messageId": "ok",
            "event": "X",
            "anonymousId": "ajs-someone",
            "properties": {"email": "someone@example.de"},
        },
    ]

    response = _batch(client, raw, messages)

    assert [(r["messageId"], r["code"]) for r in response.json()["rejected"]] == [
        (f"p{i}", "subject_suppressed") for i in range(1, 6)
    ]
    assert list(Event.objects.values_list("message_id", flat=True)) == ["ok"]


def test_consent_for_an_erased_email_sent_as_a_user_id_is_refused(client, web):
    _, raw = web
    _erase_lena()
    auth = base64.b64encode(f"{raw}:".encode()).decode()
    answer = client.post(
        "/v1/consent",
        json.dumps(
            {
                "userId": "lena.fischer@example.de",
                "choices": {"analytics": True},
                "jurisdiction": "gdpr",
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "subject_suppressed"
    assert not Identifier.objects.filter(value="lena.fischer@example.de").exists()


def test_a_snowplow_context_carrying_an_erased_email_is_refused(client, web):
    _, key = web
    _erase_lena()
    contexts = {
        "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
        "data": [
            {
                "schema": "iglu:com.acme/user/jsonschema/1-0-0",
                "data": {"email": "lena.fischer@example.de"},
            }
        ],
    }
    events = [
        {"e": "pv", "eid": "sp-3", "aid": key, "duid": "d-x", "co": json.dumps(contexts)},
        {"e": "pv", "eid": "sp-4", "aid": key, "duid": "d-y"},
    ]
    response = client.post(
        "/com.snowplowanalytics.snowplow/tp2",
        json.dumps({"schema": ENVELOPE, "data": events}),
        content_type="application/json",
    )
    assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [
        (0, "subject_suppressed")
    ]
    assert list(Event.objects.values_list("message_id", flat=True)) == ["sp-4"]
