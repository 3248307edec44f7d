"""Every 4xx answer has one shape; every list paginates and filters."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _assert_error_shape(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]


def test_unknown_api_url_is_a_json_404(api):
    _assert_error_shape(api.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_unknown_object_is_a_json_404(api):
    _assert_error_shape(api.get("/api/v1/users/987654/"), 404, "not_found")


def test_invalid_page_is_a_json_404(api):
    _assert_error_shape(api.get("/api/v1/users/", {"page": 999}), 404, "not_found")


def test_wrong_method_is_405(api):
    _assert_error_shape(api.put("/api/v1/me/", {}, format="json"), 405, "method_not_allowed")


def test_malformed_json_is_400_parse_error(api):
    response = api.post("/api/v1/tokens/", data="{not json", content_type="application/json")
    _assert_error_shape(response, 400, "parse_error")


def test_unsupported_media_type_is_415(api):
    response = api.post("/api/v1/tokens/", data="name=x", content_type="text/plain")
    _assert_error_shape(response, 415, "unsupported_media_type")


def test_unacceptable_accept_header_is_406(api):
    response = api.get("/api/v1/me/", HTTP_ACCEPT="application/xml")
    _assert_error_shape(response, 406, "not_acceptable")


def test_validation_errors_name_the_field(api):
    response = api.post("/api/v1/tokens/", {"days": "many"}, format="json")
    _assert_error_shape(response, 400, "invalid")
    fields = response.json()["details"]["fields"]
    assert set(fields) == {"name", "days"}
    assert response.json()["message"].startswith(("name:", "days:"))


def test_throttled_token_endpoint_says_when_to_retry(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token_obtain": "2/min"},
    }
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    previous = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        client = APIClient()
        payload = {"email": "x@acme.example", "password": "nope", "name": "x"}
        statuses = [client.post("/api/v1/auth/token/", payload, format="json") for _ in range(3)]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = previous
    _assert_error_shape(statuses[-1], 429, "throttled")
    assert statuses[-1].json()["details"]["retry_after_seconds"] > 0


def test_session_authenticated_api_writes_need_csrf(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/v1/me/").status_code == 200
    response = client.post("/api/v1/tokens/", {"name": "x"}, format="json")
    _assert_error_shape(response, 403, "permission_denied")
    assert "CSRF" in response.json()["message"]


def test_lists_paginate_with_count_and_links(api):
    from tests.factories import UserFactory

    UserFactory.create_batch(5)
    body = api.get("/api/v1/users/", {"page_size": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 6
    assert len(body["results"]) == 2
    assert "page=2" in body["next"]


def test_schema_documents_the_error_shape_and_bearer_auth(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "Error" in schema["components"]["schemas"]
    listing = schema["paths"]["/api/v1/users/"]["get"]["responses"]
    assert listing["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert any(
        "Bearer" in str(s) or "bearer" in str(s)
        for s in schema["components"]["securitySchemes"].values()
    )


def test_api_docs_are_served_with_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
