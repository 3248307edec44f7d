"""Arbitrary JSON messages of every shape, mixed with good ones, through the real collection
API and the real pipeline: never a 5xx, every good message stored and processed, nothing
left waiting, and no message the API accepted fails in the pipeline."""

import base64
import datetime as dt
import json
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.consent.defaults import ensure_default_purposes
from apps.events import services
from apps.events.models import Event
from apps.events.pipeline import process_waiting

# Text without lone surrogates (those make the whole body invalid JSON, a 400 of its own).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=24,
)
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
MOMENTS = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=OFFSETS
).map(dt.datetime.isoformat)
TIMES = MOMENTS | TEXT | JSON
KINDS = st.sampled_from(["track", "identify", "page", "screen", "group", "alias"]) | JSON
IDS = TEXT | st.integers(-(2**63), 2**63 - 1) | JSON
MESSAGES = (
    st.fixed_dictionaries(
        {},
        optional={
            "type": KINDS,
            "event": TEXT | JSON,
            "name": TEXT | JSON,
            "messageId": TEXT | JSON,
            "userId": IDS,
            "anonymousId": IDS,
            "previousId": IDS,
            "groupId": IDS,
            "context": JSON | st.fixed_dictionaries({}, optional={"traits": JSON, "page": JSON}),
            "traits": JSON,
            "properties": JSON,
            "integrations": JSON,
            "timestamp": TIMES,
            "originalTimestamp": TIMES,
            "sentAt": TIMES,
            "receivedAt": TIMES,
        },
    )
    | JSON
)


@pytest.fixture(autouse=True)
def purposes(db):
    ensure_default_purposes()


@pytest.fixture
def raw(admin):
    _, key = services.source_create(actor=admin, name="Web", rate_limit=100_000)
    return key


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(odd=st.lists(MESSAGES, min_size=1, max_size=6), sent_at=st.none() | TIMES)
def test_messages_of_any_shape_never_stop_the_good_ones(client, raw, odd, sent_at):
    good = [
        {
            "type": "track",
            "event": "Viewed",
            "messageId": f"good-{uuid.uuid4()}",
            "anonymousId": "a-1",
        }
        for _ in range(2)
    ]
    body = {"batch": [good[0], *odd, good[1]]}
    if sent_at is not None:
        body["sentAt"] = sent_at
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    response = client.post(
        "/v1/batch", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=auth
    )
    assert response.status_code < 500, response.content
    if response.status_code != 200:  # a request-level refusal (a sentAt that is not a time)
        assert response.json()["code"] == "invalid_timestamp"
        return
    ids = [m["messageId"] for m in good]
    assert Event.objects.filter(message_id__in=ids).count() == 2
    process_waiting()
    assert set(Event.objects.filter(message_id__in=ids).values_list("status", flat=True)) == {
        "processed"
    }
    assert not Event.objects.filter(status="received").exists()
    failed = list(Event.objects.filter(status="failed").values_list("payload", "error"))
    assert not failed


ENVELOPE = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
ENCODED = JSON.map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode())
TRACKER_FIELDS = {
    "e": st.sampled_from(["pv", "pp", "se", "ue", "tr", "ti"]) | JSON,
    "eid": TEXT | JSON,
    "duid": IDS,
    "uid": IDS,
    "dtm": st.integers() | TEXT | JSON,
    "stm": st.integers() | TEXT | JSON,
    "url": TEXT | JSON,
    "page": TEXT | JSON,
    "co": JSON.map(json.dumps) | JSON,
    "cx": ENCODED | JSON,
    "ue_pr": JSON.map(json.dumps) | JSON,
    "ue_px": ENCODED | JSON,
    "se_ac": TEXT | JSON,
    "se_va": TEXT | JSON,
    "tr_id": JSON,
    "tv": TEXT | JSON,
}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(odd=st.lists(st.fixed_dictionaries({}, optional=TRACKER_FIELDS) | JSON, max_size=6))
def test_snowplow_events_of_any_shape_never_stop_the_good_ones(client, raw, odd):
    ids = [f"sp-{uuid.uuid4()}" for _ in range(2)]
    good = [
        {"e": "pv", "eid": i, "aid": raw, "duid": "d-1", "url": "https://x.example/"} for i in ids
    ]
    odd = [{**event, "aid": raw} if isinstance(event, dict) else event for event in odd]
    body = {"schema": ENVELOPE, "data": [good[0], *odd, good[1]]}
    response = client.post(
        "/com.snowplowanalytics.snowplow/tp2", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    process_waiting()
    assert set(Event.objects.filter(message_id__in=ids).values_list("status", flat=True)) == {
        "processed"
    }
    assert not Event.objects.filter(status__in=["received", "failed"]).exists()


CONSENT_FIELDS = {
    "anonymousId": IDS,
    "userId": IDS,
    "choices": st.dictionaries(
        st.sampled_from(["analytics", "advertising"]) | TEXT, st.booleans(), max_size=3
    )
    | JSON,
    "jurisdiction": st.sampled_from(["gdpr", "ccpa", "other"]) | TEXT | JSON,
    "noticeVersion": st.text(st.characters(blacklist_categories=("Cs",)), max_size=60) | JSON,
    "source": st.sampled_from(["banner", "form"]) | JSON,
}


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.fixed_dictionaries({}, optional=CONSENT_FIELDS), gpc=st.booleans())
@example(body={"anonymousId": "a\u0000", "choices": {"analytics": True}}, gpc=False)
@example(
    body={"anonymousId": "a", "choices": {"analytics": True}, "noticeVersion": "v" * 45}, gpc=False
)
@example(body={"anonymousId": "a", "choices": {"analytics\u0000": True}}, gpc=True)
def test_consent_calls_of_any_shape_are_recorded_or_refused_with_a_code(client, raw, body, gpc):
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    headers = {"HTTP_AUTHORIZATION": auth, **({"HTTP_SEC_GPC": "1"} if gpc else {})}
    response = client.post(
        "/v1/consent", json.dumps(body), content_type="application/json", **headers
    )
    assert response.status_code in (200, 400), response.content
    assert response.json()["success"] is (response.status_code == 200)
    if response.status_code == 400:
        assert response.json()["code"]
