"""Credentials are never shown, in any encoding: the sandbox inbox (rows, page, API), the
deliveries and dead letters (rows, pages, API) hold no credential raw, URL-encoded, in
base64 (alone or as ``user:secret``) or JSON-escaped, for every adapter, including when the
vendor echoes the request back in its error."""

from __future__ import annotations

import base64
import itertools
import json
from urllib.parse import quote, quote_plus

import pytest
from django.utils import timezone

from apps.destinations import services
from apps.destinations.adapters import CATALOG, adapter_for
from apps.destinations.delivery import deliver
from apps.destinations.masking import MASK, mask_request
from apps.destinations.models import Capture, Delivery, Destination

from .conftest import person_with
from .test_adapters import sample
from .vendors import FakeVendor

# The vendor APIs that carry credentials in requests (a warehouse keeps none of its own).
KINDS = sorted(k for k, adapter in CATALOG.items() if not adapter.loads_in_batches)


def nasty(kind: str, *, ascii_only: bool = False) -> dict[str, str]:
    """Credentials with the characters encodings change: / + = : and non-ASCII."""
    accent = "" if ascii_only else "-ñé€"
    return {
        field: f"{kind[:4]}{n}/Se+cr=et:{field[:5]}{accent}-Zq9"
        for n, field in enumerate(adapter_for(kind).credential_fields)
    }


def forms(credentials: dict[str, str]) -> dict[str, str]:
    """Every form a credential could be shown in, by a label for the failure message."""
    out: dict[str, str] = {}
    values = list(credentials.values())
    for value in values:
        raw = value.encode()
        out[f"raw {value}"] = value
        out[f"url-encoded {value}"] = quote(value, safe="")
        out[f"form-encoded {value}"] = quote_plus(value)
        out[f"base64 {value}"] = base64.b64encode(raw).decode()
        out[f"base64url {value}"] = base64.urlsafe_b64encode(raw).decode()
        out[f"json {value}"] = json.dumps(value)[1:-1]
        out[f"json-unicode {value}"] = json.dumps(value, ensure_ascii=False)[1:-1]
    for user, password in itertools.permutations(values, 2):
        pair = f"{user}:{password}".encode()
        out[f"basic {user}:{password}"] = base64.b64encode(pair).decode()
    return out


def leaks(text: str, credentials: dict[str, str]) -> list[str]:
    return [label for label, form in forms(credentials).items() if form and form in text]


def _destination(admin, tool, kind: str, vendor: FakeVendor, credentials: dict) -> Destination:
    config, _ = sample(kind, vendor.base_url)
    fields = {"base_url": vendor.base_url} if kind != "webhook" else {}
    return services.destination_create(
        actor=admin,
        name=f"{kind} secrets",
        adapter=kind,
        tool=tool,
        config=config,
        sends="profiles" if kind == "salesforce" else "events",
        is_enabled=True,
        credentials=credentials,
        **fields,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_the_adapter_declares_where_each_of_its_requests_carries_a_credential(kind):
    """Masking by the declaration alone leaves no credential in any request the adapter
    builds: sends, erasures and their polls."""
    adapter = adapter_for(kind)
    credentials = nasty(kind)
    config, items = sample(kind, "https://vendor.example.com")
    built = list(adapter.requests(items, config, credentials, "https://vendor.example.com"))
    if "deletion" in adapter.supports:
        ids = {"user_id": "u/1", "email": "ana@example.com", "anonymous_id": "a1"}
        built.append(adapter.deletion(ids, config, credentials, "https://vendor.example.com"))
        poll = adapter.deletion_poll("2026-01-01", config, credentials, "https://v.example.com")
        if poll is not None:
            built.append(poll)
    for request in built:
        url, headers, body = mask_request(adapter, request)
        shown = json.dumps([url, headers, body], ensure_ascii=False) + url + body
        assert leaks(shown, credentials) == [], request.url
    assert any(MASK in json.dumps(mask_request(adapter, r), ensure_ascii=False) for r in built)


def test_send_tests_of_every_adapter_show_no_credential_anywhere(admin, admin_client, tool, client):
    """The review's case: Customer.io's Basic header and Meta's URL-encoded token."""
    all_credentials: dict[str, str] = {}
    api_bodies = []
    for kind in KINDS:
        credentials = nasty(kind)
        all_credentials.update({f"{kind}.{k}": v for k, v in credentials.items()})
        with FakeVendor(kind) as vendor:
            destination = _destination(admin, tool, kind, vendor, credentials)
            response = admin_client.post(
                f"/api/v1/destinations/{destination.pk}/send-test/",
                content_type="application/json",
            )
            assert response.status_code == 201, response.content
            api_bodies.append(response.content.decode())
            assert vendor.requests == []
    captures = list(Capture.objects.all())
    assert len(captures) >= len(KINDS)
    stored = json.dumps(
        [[c.url, c.headers, c.body] for c in captures], ensure_ascii=False
    ) + "".join(c.url + c.body + "".join(c.headers.values()) for c in captures)
    assert leaks(stored, all_credentials) == []
    assert leaks("".join(api_bodies), all_credentials) == []
    viewer = person_with(admin, "destinations.view", name="Mei Viewer")
    client.force_login(viewer)
    inbox = client.get("/destinations/inbox/").content.decode()
    assert "Basic " + MASK in inbox  # Customer.io, as the review saw it
    assert "access_token=" + MASK in inbox  # Meta
    assert leaks(inbox, all_credentials) == []
    assert leaks(admin_client.get("/destinations/inbox/").content.decode(), all_credentials) == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_vendor_that_echoes_the_request_leaves_no_credential_in_deliveries(
    kind, admin, admin_client, tool
):
    credentials = nasty(kind, ascii_only=True)
    adapter = adapter_for(kind)
    with FakeVendor(kind) as vendor:
        vendor.credentials = credentials
        destination = _destination(admin, tool, kind, vendor, credentials)
        config, items = sample(kind, vendor.base_url)
        [request, *_] = adapter.requests(items[:1], config, credentials, vendor.base_url)
        auth = request.headers.get("Authorization", "")
        # What a careless vendor answers: the request line and its credentials, as received.
        echo = (
            f"Bad request. {auth} {request.url} " + " ".join(forms(credentials).values())
        ).strip()
        body = {"message": echo, "error": echo, "meta": {"error": echo}}
        vendor.fail_next(20, 400, body)
        now = timezone.now()
        for item in items[:1]:
            Delivery.objects.create(
                destination=destination,
                message_id="m1",
                status="pending",
                next_attempt_at=now,
                subject="user_id:u1",
                consent=dict.fromkeys(destination.required_purposes, True),
                payload={
                    "kind": item.kind,
                    "message": item.message,
                    "identifiers": item.identifiers,
                    "fields": item.fields,
                },
            )
        deliver(destination)
        assert vendor.requests  # it was sent, and answered with the echo
    [row] = Delivery.objects.filter(destination=destination)
    assert row.status == "dead"
    assert row.error
    destination.refresh_from_db()
    shown = (
        row.error
        + destination.last_error
        + admin_client.get("/api/v1/dead-letters/").content.decode()
        + admin_client.get("/api/v1/deliveries/").content.decode()
        + admin_client.get(f"/api/v1/destinations/{destination.pk}/").content.decode()
        + admin_client.get("/destinations/dead-letters/").content.decode()
        + admin_client.get(f"/destinations/{destination.pk}/").content.decode()
    )
    assert leaks(shown, credentials) == []


def test_a_credential_http_headers_cannot_carry_dead_letters_without_naming_it(admin, tool):
    credentials = {"access_token": "tök/en+=:ü-secret"}
    with FakeVendor("hubspot") as vendor:
        destination = _destination(admin, tool, "hubspot", vendor, credentials)
        _, items = sample("hubspot", vendor.base_url)
        Delivery.objects.create(
            destination=destination,
            message_id="m1",
            status="pending",
            next_attempt_at=timezone.now(),
            subject="user_id:u1",
            payload={
                "kind": "event",
                "message": items[0].message,
                "identifiers": items[0].identifiers,
                "fields": {},
            },
        )
        deliver(destination)
        assert vendor.requests == []
    row = Delivery.objects.get(destination=destination)
    assert row.status == "dead"
    assert "cannot carry" in row.error
    assert leaks(row.error, credentials) == []
