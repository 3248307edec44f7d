"""The collection API checks the shape of what it accepts, message by message: a bad message
is refused with a code naming what is wrong, the good ones beside it are stored, and nothing
a client sends answers a 500. Timestamps are dated within a window around the moment the
API received them, as Segment does, and the client's value is kept."""

import base64
import datetime as dt
import json

import pytest
from django.utils import timezone

from apps.consent.defaults import ensure_default_purposes
from apps.consent.models import ConsentRecord
from apps.events import services
from apps.events.collect import FUTURE_LIMIT, MAX_DEPTH, PAST_LIMIT
from apps.events.models import Event
from apps.events.pipeline import process_waiting
from apps.identity.models import Profile


@pytest.fixture(autouse=True)
def purposes(db):
    ensure_default_purposes()


@pytest.fixture
def raw(admin):
    _, key = services.source_create(actor=admin, name="Web", rate_limit=10_000)
    return key


def _auth(raw):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{raw}:".encode()).decode()}


def _post(client, path, body, raw):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(path, data, content_type="application/json", **_auth(raw))


def _track(message_id, **extra):
    return {
        "type": "track",
        "event": "Viewed",
        "messageId": message_id,
        "anonymousId": "a-1",
        **extra,
    }


def _nested(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"x": value}
    return value


def _batch(client, raw, batch):
    response = _post(client, "/v1/batch", {"batch": batch}, raw)
    assert response.status_code == 200, response.content
    return {r["messageId"]: r["code"] for r in response.json().get("rejected", [])}


def test_objects_that_are_not_objects_are_refused_per_message_and_the_good_kept(client, raw):
    batch = [
        _track("good-1"),
        _track("context-list", context=[1, 2]),
        _track("context-text", context="evil"),
        _track("traits-list", traits=["a"]),
        _track("properties-text", properties="x"),
        _track("integrations-number", integrations=3),
        _track("context-traits-list", context={"traits": [1]}),
        _track("context-page-text", context={"page": "https://x.example"}),
        _track("good-2", context={"page": {"url": "https://www.acme.example/"}}),
    ]
    rejected = _batch(client, raw, batch)
    assert rejected == {
        "context-list": "invalid_field",
        "context-text": "invalid_field",
        "traits-list": "invalid_field",
        "properties-text": "invalid_field",
        "integrations-number": "invalid_field",
        "context-traits-list": "invalid_field",
        "context-page-text": "invalid_field",
    }
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["good-1", "good-2"]


def test_the_rejection_names_the_field(client, raw):
    response = _post(client, "/v1/batch", {"batch": [_track("c", context=[1, 2])]}, raw)
    [rejection] = response.json()["rejected"]
    assert rejection["code"] == "invalid_field"
    assert "context" in rejection["message"]
    single = _post(client, "/v1/track", _track("t", traits="x"), raw)
    assert (single.status_code, single.json()["code"]) == (400, "invalid_field")
    assert "traits" in single.json()["message"]


def test_ids_are_strings_or_numbers_made_strings_never_booleans_objects_or_arrays(client, raw):
    alias = {"type": "alias", "userId": "u-9"}
    group = {"type": "group", "anonymousId": "a-1"}
    batch = [
        {**_track("user-true"), "userId": True},
        {**_track("anonymous-object"), "anonymousId": {}},
        {**_track("anonymous-list"), "anonymousId": ["a"]},
        {**alias, "messageId": "previous-object", "previousId": {"id": 1}},
        {**group, "messageId": "group-list", "groupId": [1]},
        {**_track("user-long"), "userId": "u" * 201},
        {**_track("user-number"), "userId": 12345},
        {**alias, "messageId": "alias-number", "previousId": 777},
        {**group, "messageId": "group-number", "groupId": 42},
    ]
    rejected = _batch(client, raw, batch)
    assert rejected == {
        "user-true": "invalid_identity",
        "anonymous-object": "invalid_identity",
        "anonymous-list": "invalid_identity",
        "previous-object": "invalid_identity",
        "group-list": "invalid_identity",
        "user-long": "invalid_identity",
    }
    stored = {e.message_id: e for e in Event.objects.all()}
    assert set(stored) == {"user-number", "alias-number", "group-number"}
    assert stored["user-number"].user_id == "12345"
    assert stored["user-number"].payload["userId"] == "12345"
    assert stored["alias-number"].payload["previousId"] == "777"
    assert stored["group-number"].payload["groupId"] == "42"


def test_a_message_nested_too_deep_is_refused_per_message_with_a_code(client, raw):
    batch = [
        _track("ok", properties=_nested(MAX_DEPTH - 2)),
        _track("deep", properties=_nested(MAX_DEPTH + 1)),
        _track("deeper", properties=_nested(250)),  # past orjson's own limit of 255 levels
        _track("wide", properties={f"k{i}": {"v": [i]} for i in range(200)}),  # many, shallow
    ]
    rejected = _batch(client, raw, batch)
    assert rejected == {"deep": "too_deep", "deeper": "too_deep"}
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["ok", "wide"]


def _stored(message_id) -> Event:
    return Event.objects.get(message_id=message_id)


def test_timestamps_outside_the_window_are_dated_on_arrival_and_the_sent_value_kept(client, raw):
    now = timezone.now()
    batch = [
        _track("far-future", timestamp="9999-12-31T23:59:59-14:00"),
        _track("year-9999", timestamp="9999-12-31T00:00:00Z"),
        _track("year-1", timestamp="0001-01-01T00:00:00Z", sentAt="9999-12-31T23:59:59Z"),
        _track("too-old", timestamp=(now - PAST_LIMIT - dt.timedelta(days=1)).isoformat()),
        _track("tomorrow", timestamp=(now + FUTURE_LIMIT + dt.timedelta(hours=1)).isoformat()),
        _track("good", timestamp="2026-11-30T10:00:00-14:00"),
    ]
    assert _batch(client, raw, batch) == {}
    for message_id in ("far-future", "year-9999", "year-1", "too-old", "tomorrow"):
        event = _stored(message_id)
        assert event.timestamp == event.received_at, message_id
    assert _stored("far-future").payload["originalTimestamp"] == "9999-12-31T23:59:59-14:00"
    assert _stored("year-1").payload["originalTimestamp"] == "0001-01-01T00:00:00Z"
    assert _stored("year-1").payload["sentAt"] == "9999-12-31T23:59:59Z"
    assert _stored("good").timestamp == dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)


def test_a_sent_at_out_of_range_is_not_believed_and_the_message_kept(client, raw):
    message = _track("m", timestamp="2026-11-30T10:00:00Z")
    response = _post(
        client, "/v1/batch", {"batch": [message], "sentAt": "9999-12-31T23:59:59Z"}, raw
    )
    assert response.status_code == 200, response.content
    assert _stored("m").timestamp == dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "value",
    ["garbage", "2026-13-40T00:00:00Z", "2026-11-30T25:00:00Z", "T", 12, {"at": 1}, "9" * 100],
)
def test_a_timestamp_that_does_not_parse_is_refused_beside_one_out_of_range_that_is_kept(
    client, raw, value
):
    batch = [
        _track("bad", timestamp=value),
        _track("year-1", timestamp="0001-01-01T00:00:00Z", sentAt="9999-12-31T23:59:59Z"),
        _track("space", timestamp="2026-11-30 10:00:00Z"),  # no T: still ISO 8601 enough
    ]
    assert _batch(client, raw, batch) == {"bad": "invalid_timestamp"}
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["space", "year-1"]
    assert _stored("space").timestamp == dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def test_a_far_future_timestamp_cannot_pin_the_last_touch(client, raw):
    site = "https://www.acme.example"

    def page(message_id, campaign, timestamp):
        url = f"{site}/?utm_source=news&utm_medium=email&utm_campaign={campaign}"
        return {
            "type": "page",
            "anonymousId": "ts-anon-1",
            "messageId": message_id,
            "timestamp": timestamp,
            "context": {"page": {"url": url}},
        }

    _batch(client, raw, [page("pin", "future-pin", "9999-12-31T00:00:00Z")])
    later = (timezone.now() + dt.timedelta(minutes=5)).isoformat()
    _batch(client, raw, [page("real", "real-now", later)])
    process_waiting()
    profile = Profile.objects.get(identifiers__value="ts-anon-1")
    assert profile.first_touch["campaign"] == "future-pin"
    assert profile.last_touch["campaign"] == "real-now"


def _big_body(megabytes: int) -> bytes:
    return b'{"batch": [' + b" " * (megabytes * 1024 * 1024) + b"]}"


@pytest.mark.parametrize("megabytes", [3, 10])
@pytest.mark.parametrize(
    "path", ["/v1/batch", "/v1/track", "/v1/consent", "/com.snowplowanalytics.snowplow/tp2"]
)
def test_a_body_of_megabytes_is_a_json_400_payload_too_large(client, raw, path, megabytes):
    response = _post(client, path, _big_body(megabytes), raw)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"anonymousId": "a\u0000b"}, "invalid_identity"),
        ({"anonymousId": {}}, "invalid_identity"),
        ({"anonymousId": ["a"]}, "invalid_identity"),
        ({"userId": True}, "invalid_identity"),
        ({"noticeVersion": "v1\u0000"}, "invalid_notice_version"),
        ({"noticeVersion": "v" * 41}, "invalid_notice_version"),
        ({"noticeVersion": {"v": 1}}, "invalid_notice_version"),
        ({"choices": {"analytics\u0000": True}}, "invalid_choices"),
        ({"choices": {"p" * 101: True}}, "invalid_choices"),
    ],
)
def test_bad_consent_input_is_a_400_with_a_code_and_records_nothing(client, raw, body, code):
    base = {"anonymousId": "ajs-1", "choices": {"analytics": True}, "noticeVersion": "v1"}
    response = _post(client, "/v1/consent", {**base, **body}, raw)
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert not ConsentRecord.objects.exists()
    # the same call within the limits is recorded
    fine = _post(client, "/v1/consent", {**base, "noticeVersion": "v" * 40}, raw)
    assert fine.status_code == 200, fine.content
    assert ConsentRecord.objects.get().notice_version == "v" * 40
