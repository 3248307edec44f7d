"""The collection API's one error idiom: every refusal (of a request, or of one message of a
batch, in the Segment and Snowplow shapes and the consent endpoint) carries a code of
``EventsErrorCode`` and is raised as ``Refused``; nothing answers with a code outside it."""

import ast
import base64
import json
from pathlib import Path

import pytest

from apps.consent.defaults import ensure_default_purposes
from apps.events import services
from apps.events.errors import EventsErrorCode

ROOT = Path(__file__).resolve().parents[2]
CODES = {code.value for code in EventsErrorCode}


@pytest.fixture
def web(db, admin):
    ensure_default_purposes()
    return services.source_create(actor=admin, name="Web", allowed_origins=[], rate_limit=1000)


def _auth(raw):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{raw}:".encode()).decode()}


def _post(client, path, data, **extra):
    body = data if isinstance(data, bytes) else json.dumps(data)
    return client.post(path, body, content_type="application/json", **extra)


def test_every_refused_request_answers_a_code_of_the_events_enum(client, web):
    _, raw = web
    answers = [
        _post(client, "/v1/batch", b'{"batch": [', **_auth(raw)),
        _post(client, "/v1/batch", {"batch": []}),
        _post(client, "/v1/batch", {"batch": []}, HTTP_AUTHORIZATION="Basic !!!"),
        _post(client, "/v1/batch", {"batch": "x"}, **_auth(raw)),
        _post(client, "/v1/batch", {"batch": [], "sentAt": "yesterday"}, **_auth(raw)),
        _post(client, "/v1/track", {"type": "track", "anonymousId": "a"}, **_auth(raw)),
        client.get("/v1/batch"),
        _post(client, "/v1/consent", {"anonymousId": "a", "choices": "yes"}, **_auth(raw)),
        _post(client, "/com.snowplowanalytics.snowplow/tp2", {"data": []}),
    ]
    seen = set()
    for response in answers:
        assert response.status_code in (400, 401, 405), response.content
        body = response.json()
        assert body["success"] is False
        assert body["code"] in CODES, body
        seen.add(body["code"])
    assert {
        "invalid_json",
        "missing_write_key",
        "invalid_write_key",
        "invalid_batch",
        "invalid_timestamp",
        "missing_event",
        "method_not_allowed",
        "invalid_choices",
        "invalid_payload",
    } <= seen


def test_a_refused_message_in_a_batch_is_listed_with_its_enum_code_and_the_rest_stored(client, web):
    _, raw = web
    batch = [
        {"type": "track", "event": "Order Completed", "anonymousId": "a", "messageId": "ok"},
        {"type": "track", "anonymousId": "a", "messageId": "no-name"},
        {"type": "track", "event": "X", "anonymousId": "a", "timestamp": "soon"},
        {"type": "nope", "anonymousId": "a"},
    ]
    response = _post(client, "/v1/batch", {"batch": batch}, **_auth(raw))
    assert response.status_code == 200
    rejected = response.json()["rejected"]
    assert [(r["index"], r["code"]) for r in rejected] == [
        (1, EventsErrorCode.MISSING_EVENT),
        (2, EventsErrorCode.INVALID_TIMESTAMP),
        (3, EventsErrorCode.INVALID_TYPE),
    ]


@pytest.mark.parametrize("module", ["apps/events/collect.py", "apps/events/snowplow.py"])
def test_the_collection_api_refuses_only_by_raising_refused_with_an_enum_code(module):
    """No second idiom: no ``ValueError(code, reason)`` pairs, no code written as a bare
    string, no JSON error answer built outside ``refusal``."""
    tree = ast.parse((ROOT / module).read_text())
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = getattr(node.exc.func, "id", getattr(node.exc.func, "attr", ""))
            if name == "ValueError" and len(node.exc.args) >= 2:
                problems.append(f"line {node.lineno}: ValueError(code, reason)")
            if name == "Refused" and node.exc.args:
                first = node.exc.args[0]
                if isinstance(first, ast.Constant):
                    problems.append(f"line {node.lineno}: Refused with a bare code or status")
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "JsonResponse":
            problems.append(f"line {node.lineno}: a JsonResponse outside refusal()")
    allowed = {"refusal"} if module.endswith("collect.py") else set()
    if allowed:
        # the one JsonResponse lives in refusal()
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and fn.name in allowed:
                inside = set(range(fn.lineno, fn.end_lineno + 1))
                problems = [p for p in problems if int(p.split()[1].rstrip(":")) not in inside]
    assert problems == []
