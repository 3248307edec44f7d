"""A website sends its banner choices with its write key; they land in the ledger."""

import base64
import json

import pytest

from apps.consent.defaults import ensure_default_purposes
from apps.consent.models import ConsentRecord
from apps.consent.selectors import consent_state
from apps.events import services
from apps.identity.normalise import Ident


@pytest.fixture
def site(admin):
    ensure_default_purposes()
    return services.source_create(
        actor=admin, name="Web", allowed_origins=["https://www.acme.example"]
    )


def _send(client, body, raw, **headers):
    auth = base64.b64encode(f"{raw}:".encode()).decode()
    return client.post(
        "/v1/consent",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
        **headers,
    )


def test_banner_choices_sent_with_a_write_key_are_recorded(client, site):
    _, raw = site
    response = _send(
        client,
        {
            "anonymousId": "ajs-5f1c",
            "choices": {"analytics": True, "advertising": False},
            "jurisdiction": "gdpr",
            "noticeVersion": "2026-06",
        },
        raw,
        HTTP_ORIGIN="https://www.acme.example",
    )
    assert response.status_code == 200
    assert response.json() == {"success": True, "recorded": 2}
    assert response["Access-Control-Allow-Origin"] == "https://www.acme.example"
    state = {
        p.purpose.code: p.granted for p in consent_state(Ident("anonymous_id", "ajs-5f1c")).purposes
    }
    assert (state["analytics"], state["advertising"]) == (True, False)
    record = ConsentRecord.objects.get(purpose__code="analytics")
    assert (record.source, record.notice_version) == ("banner", "2026-06")
    assert record.evidence["source"] == "Web"


def test_gpc_with_the_choices_records_an_opt_out_of_sale(client, site):
    _, raw = site
    response = _send(client, {"userId": "u-1", "choices": {}}, raw, HTTP_SEC_GPC="1")
    assert response.json()["recorded"] == 1
    assert ConsentRecord.objects.get().purpose.code == "sale_share"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"choices": {"analytics": True}}, 400, "missing_identity"),
        ({"anonymousId": "null", "choices": {"analytics": True}}, 400, "invalid_identity"),
        ({"anonymousId": "a-1", "choices": {"analytics": "yes"}}, 400, "invalid_choices"),
        ({"anonymousId": "a-1", "choices": {"telepathy": True}}, 400, "unknown_purpose"),
    ],
)
def test_bad_choices_are_refused_with_a_code_and_nothing_is_recorded(
    client, site, body, status, code
):
    _, raw = site
    response = _send(client, body, raw)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not ConsentRecord.objects.exists()


def test_without_a_valid_write_key_nothing_is_recorded(client, site):
    response = _send(client, {"anonymousId": "a-1", "choices": {"analytics": True}}, "wk_bad")
    assert (response.status_code, response.json()["code"]) == (401, "invalid_write_key")
    assert not ConsentRecord.objects.exists()
