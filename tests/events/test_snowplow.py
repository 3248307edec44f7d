"""Snowplow's tracker protocol: payload_data over POST, the GET pixel, self-describing events
and base64 contexts, all stored through the same path as Segment calls."""

import base64
import json

import pytest

from apps.consent.defaults import ensure_default_purposes
from apps.events import services
from apps.events.models import Event
from apps.events.pipeline import process_waiting

ENVELOPE = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.fixture
def app(admin):
    ensure_default_purposes()
    return services.source_create(actor=admin, name="Snowplow web")


def _tp2(client, events):
    return client.post(
        "/com.snowplowanalytics.snowplow/tp2",
        json.dumps({"schema": ENVELOPE, "data": events}),
        content_type="application/json; charset=UTF-8",
    )


def test_page_views_structured_and_self_describing_events_are_stored(client, app):
    _, key = app
    inner = {
        "schema": "iglu:com.acme/order_completed/jsonschema/1-0-0",
        "data": {"order_id": "A-1", "total": 9.5},
    }
    order = {"schema": UNSTRUCT, "data": inner}
    contexts = {
        "schema": CONTEXTS,
        "data": [{"schema": "iglu:com.acme/user/jsonschema/1-0-0", "data": {"tier": "gold"}}],
    }
    response = _tp2(
        client,
        [
            {
                "e": "pv",
                "eid": "e1",
                "aid": key,
                "duid": "d-1",
                "url": "https://www.acme.example/?gclid=G1",
                "page": "Home",
                "dtm": "1780000000000",
                "stm": "1780000002000",
                "tv": "py-1.0.0",
            },
            {
                "e": "se",
                "eid": "e2",
                "aid": key,
                "duid": "d-1",
                "se_ca": "video",
                "se_ac": "play",
                "se_va": "3",
            },
            {
                "e": "ue",
                "eid": "e3",
                "aid": key,
                "duid": "d-1",
                "uid": "u-9",
                "ue_px": _b64(order),
                "cx": _b64(contexts),
            },
        ],
    )
    assert response.status_code == 200
    assert response.json() == {"success": True}
    events = {e.message_id: e for e in Event.objects.all()}
    assert (events["e1"].type, events["e1"].name) == ("page", "Home")
    assert events["e1"].payload["context"]["page"]["url"].endswith("gclid=G1")
    assert (events["e2"].name, events["e2"].payload["properties"]["value"]) == ("play", 3.0)
    assert (events["e3"].name, events["e3"].user_id) == ("Order Completed", "u-9")
    assert events["e3"].payload["properties"] == {"order_id": "A-1", "total": 9.5}
    assert events["e3"].payload["context"]["snowplow_contexts"][0]["data"] == {"tier": "gold"}
    process_waiting()
    events["e1"].refresh_from_db()
    assert events["e1"].attribution["network"] == "google_ads"


def test_the_pixel_answers_a_gif_and_stores_the_event(client, app):
    _, key = app
    response = client.get(
        "/i",
        {"e": "pv", "eid": "px-1", "aid": key, "duid": "d-2", "url": "https://www.acme.example/"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert Event.objects.get().message_id == "px-1"


def test_without_the_write_key_as_app_id_nothing_is_stored(client, app):
    response = _tp2(client, [{"e": "pv", "eid": "e1", "duid": "d"}])
    assert (response.status_code, response.json()["code"]) == (401, "missing_write_key")
    assert not Event.objects.exists()


def test_unusable_events_are_rejected_one_by_one(client, app):
    _, key = app
    response = _tp2(
        client,
        [
            {"e": "pv", "eid": "ok", "aid": key, "duid": "d"},
            {"e": "zz", "eid": "bad-type", "aid": key, "duid": "d"},
            {"e": "ue", "eid": "bad-ue", "aid": key, "duid": "d", "ue_px": "%%%"},
            {"e": "pv", "eid": "no-id", "aid": key},
        ],
    )
    assert response.status_code == 200
    codes = [(r["index"], r["code"]) for r in response.json()["rejected"]]
    assert codes == [(1, "invalid_type"), (2, "invalid_encoding"), (3, "missing_identity")]
    assert list(Event.objects.values_list("message_id", flat=True)) == ["ok"]
