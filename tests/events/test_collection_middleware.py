"""The collection API answers before the console pages' middleware, with the same headers."""

import base64
import json

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from apps.consent.defaults import ensure_default_purposes
from apps.events import services
from apps.events.middleware import CollectionMiddleware
from apps.events.models import Event

pytestmark = pytest.mark.django_db

PAGE_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
)


@pytest.fixture
def key(admin):
    ensure_default_purposes()
    _, raw = services.source_create(actor=admin, name="Web", rate_limit=1000)
    return raw


def _auth(raw):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{raw}:".encode()).decode()}


def _batch(message_id="m1"):
    return json.dumps(
        {
            "batch": [
                {
                    "type": "track",
                    "event": "Signed Up",
                    "anonymousId": "ajs-1",
                    "messageId": message_id,
                }
            ]
        }
    )


def test_collection_answers_carry_the_headers_every_console_page_carries(client, admin_client, key):
    page = admin_client.get(reverse("dashboard"))
    answers = [
        client.post("/v1/batch", _batch(), content_type="application/json", **_auth(key)),
        client.post("/v1/batch", _batch(), content_type="application/json"),  # no key: 401
        client.get("/i", {"e": "pv", "aid": key, "duid": "d-1", "eid": "e-1"}),
        client.options("/v1/track", HTTP_ORIGIN="https://nowhere.example"),
    ]
    assert [a.status_code for a in answers] == [200, 401, 200, 204]
    for answer in answers:
        for header in PAGE_HEADERS:
            assert answer[header] == page[header], header
        assert answer["X-Request-ID"]
        assert int(answer["Content-Length"]) == len(answer.content)


def test_collection_refuses_a_host_that_allowed_hosts_does_not_list(key):
    evil = Client(HTTP_HOST="evil.example")
    response = evil.post("/v1/batch", _batch(), content_type="application/json", **_auth(key))
    assert response.status_code == 400
    assert not Event.objects.exists()


def test_collection_neither_reads_nor_renews_a_console_session_sent_along(client, admin, key):
    client.force_login(admin)
    page = client.get(reverse("dashboard"))
    assert settings.SESSION_COOKIE_NAME in page.cookies  # pages renew it on every request
    answer = client.post("/v1/batch", _batch(), content_type="application/json", **_auth(key))
    assert answer.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in answer.cookies
    assert "Cookie" not in answer.get("Vary", "")
    assert Event.objects.filter(message_id="m1").exists()


def test_only_the_collection_addresses_skip_the_rest_of_the_middleware(key):
    passed_on = []

    def rest_of_the_chain(request):
        passed_on.append(request.path_info)
        return HttpResponse("page")

    middleware = CollectionMiddleware(rest_of_the_chain)
    factory = RequestFactory()
    for path in ("/v1/batch", "/v1/identify", "/com.snowplowanalytics.snowplow/tp2", "/v1/consent"):
        answer = middleware(factory.post(path, "{}", content_type="application/json"))
        # The collection view's own refusal (no write key, or no payload_data for Snowplow).
        assert answer.status_code in (400, 401), path
        assert json.loads(answer.content)["code"] in ("missing_write_key", "invalid_payload")
    for path in ("/v1/batch/", "/v1", "/api/v1/events/", "/sources/", "/i/"):
        assert middleware(factory.get(path)).content == b"page"
    assert passed_on == ["/v1/batch/", "/v1", "/api/v1/events/", "/sources/", "/i/"]
