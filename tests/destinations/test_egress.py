"""The egress policy on destinations: URLs refused when saved (API, form, service) and when
sent (deliveries, after DNS and at connect time), and a vendor's answer kept short, clean
and shown only to those who manage the destination."""

from __future__ import annotations

import json
import socket

import pytest
from django.utils import timezone

from apps.destinations import services
from apps.destinations.delivery import deliver
from apps.destinations.models import Delivery, Destination
from martech.common.egress import EgressRefused

from .conftest import hook, person_with
from .vendors import FakeVendor

INTERNAL_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:6379/",
    "http://[::1]:8399/",
    "http://localhost/",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://0.0.0.0:8399/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fd00::1]/",
    "http://metadata.google.internal/",
    "http://user:pass@127.0.0.1/",
    "http://user:pass@93.184.215.14/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://127.1/",
]


@pytest.fixture
def nothing_allowed(settings):
    settings.MARTECH_EGRESS_ALLOW = []


@pytest.fixture
def zone(monkeypatch):
    """Name resolution for names under example.com (the machine has no public DNS): one
    list of answers per look-up, the last one repeating."""
    real = socket.getaddrinfo
    records: dict[str, list[list[str]]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        name = str(host).rstrip(".").lower()
        if name not in records:
            return real(host, port, *args, **kwargs)
        answers = records[name]
        current = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port or 0))) for a in current]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return records


# -- when a destination is saved ---------------------------------------------------------------


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_the_api_refuses_a_webhook_url_to_an_internal_address(
    nothing_allowed, admin_client, tool, url
):
    response = admin_client.post(
        "/api/v1/destinations/",
        {"name": "Hook", "adapter": "webhook", "tool": tool.pk, "config": {"url": url}},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "egress_refused"
    assert response.json()["details"]["field"] == "config.url"
    assert not Destination.objects.exists()


@pytest.mark.parametrize("url", INTERNAL_URLS[:8])
def test_the_api_refuses_an_api_origin_to_an_internal_address(
    nothing_allowed, admin_client, tool, url
):
    response = admin_client.post(
        "/api/v1/destinations/",
        {"name": "Braze", "adapter": "braze", "tool": tool.pk, "base_url": url},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("egress_refused", "invalid")
    assert not Destination.objects.exists()


def test_a_change_to_an_internal_url_is_refused_and_the_destination_is_unchanged(
    settings, admin, tool
):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
    settings.MARTECH_EGRESS_ALLOW = []
    for config in (
        {"url": "https://hooks.partner.example.com/in", "deletion_url": "http://[::1]/x"},
        {"url": "http://169.254.169.254/latest/meta-data/"},
    ):
        with pytest.raises(EgressRefused):
            services.destination_update(actor=admin, destination=destination, config=config)
    with pytest.raises(EgressRefused) as refused:
        services.destination_update(
            actor=admin,
            destination=Destination.objects.get(pk=destination.pk),
            adapter="salesforce",
            sends="profiles",
            config={"instance_url": "https://10.1.2.3"},
        )
    assert refused.value.details["field"] == "config.instance_url"
    destination.refresh_from_db()
    assert destination.config["url"].startswith("http://127.0.0.1:")


def test_a_public_name_that_does_not_resolve_yet_can_be_saved(nothing_allowed, admin, tool):
    destination = services.destination_create(
        actor=admin,
        name="Partner",
        adapter="webhook",
        tool=tool,
        config={"url": "https://hooks.partner.example/martech"},
    )
    assert destination.pk


def test_the_form_shows_the_refusal_on_the_field(nothing_allowed, admin_client, tool):
    response = admin_client.post(
        "/destinations/new/",
        {
            "name": "Hook",
            "adapter": "webhook",
            "tool": tool.pk,
            "environment": "sandbox",
            "sends": "events",
            "config": json.dumps({"url": "http://169.254.169.254/latest/"}),
            "base_url": "http://[::ffff:127.0.0.1]/",
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "link-local" in form.errors["config"][0]
    assert "loopback" in form.errors["base_url"][0]
    assert not Destination.objects.exists()


def test_the_field_error_reads_as_a_sentence_not_a_field_name(nothing_allowed, admin_client, tool):
    # when
    response = admin_client.post(
        "/destinations/new/",
        {
            "name": "Hook",
            "adapter": "webhook",
            "tool": tool.pk,
            "environment": "sandbox",
            "sends": "events",
            "config": json.dumps({"url": "http://10.0.0.5/hook"}),
            "base_url": "http://169.254.169.254/latest/meta-data/",
        },
    )

    # then: the API origin's error starts with the address, the configuration's names its key
    form = response.context["form"]
    assert form.errors["base_url"][0].startswith("169.254.169.254 is a link-local address")
    assert form.errors["config"][0].startswith("“url” in the configuration: 10.0.0.5 is a private")


# -- when it is sent ---------------------------------------------------------------------------


def _pending(destination, n=1):
    now = timezone.now()
    return [
        Delivery.objects.create(
            destination=destination,
            message_id=f"m{i}",
            status="pending",
            next_attempt_at=now,
            subject=f"anonymous_id:a{i}",
            payload={
                "kind": "event",
                "identifiers": {"user_id": f"u{i}"},
                "fields": {},
                "message": {
                    "type": "track",
                    "event": "Order Completed",
                    "messageId": f"m{i}",
                    "userId": f"u{i}",
                    "properties": {},
                },
            },
        )
        for i in range(n)
    ]


def test_a_delivery_to_a_refused_address_is_never_sent_and_dead_letters_with_the_reason(
    settings, admin, tool
):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)  # saved while loopback was allowed
        [row] = _pending(destination)
        settings.MARTECH_EGRESS_ALLOW = []
        run = deliver(destination)
        assert vendor.requests == []
    row.refresh_from_db()
    assert row.status == "dead"
    assert "loopback" in row.error
    assert "MARTECH_EGRESS_ALLOW" in row.error
    assert run.dead == 1


def test_a_name_that_resolves_elsewhere_at_connect_time_is_refused(settings, zone, admin, tool):
    """DNS rebinding: the name answers a public address when the destination is saved and
    loopback when the delivery connects; the connection is refused."""
    settings.MARTECH_EGRESS_ALLOW = []
    with FakeVendor("webhook") as vendor:
        port = vendor.base_url.rsplit(":", 1)[1]
        zone["hooks.rebind.example.com"] = [["93.184.215.14"], ["127.0.0.1"]]
        destination = services.destination_create(
            actor=admin,
            name="Rebind",
            adapter="webhook",
            tool=tool,
            is_enabled=True,
            config={"url": f"https://hooks.rebind.example.com:{port}/hooks/martech"},
            credentials=dict(vendor.credentials),
        )
        [row] = _pending(destination)
        deliver(destination)
        assert vendor.requests == []
    row.refresh_from_db()
    assert row.status == "dead"
    assert "hooks.rebind.example.com (127.0.0.1) is a loopback address" in row.error


def test_a_name_the_operator_allows_is_sent_to_with_its_host_header(settings, zone, admin, tool):
    settings.MARTECH_EGRESS_ALLOW = ["hooks.corp.example.com"]
    with FakeVendor("webhook") as vendor:
        port = vendor.base_url.rsplit(":", 1)[1]
        zone["hooks.corp.example.com"] = [["127.0.0.1"]]
        destination = services.destination_create(
            actor=admin,
            name="Corp",
            adapter="webhook",
            tool=tool,
            is_enabled=True,
            config={"url": f"http://hooks.corp.example.com:{port}/hooks/martech"},
            credentials=dict(vendor.credentials),
        )
        [row] = _pending(destination)
        deliver(destination)
        [received] = vendor.requests
    row.refresh_from_db()
    assert row.status == "delivered"
    assert received.headers["host"] == f"hooks.corp.example.com:{port}"


def test_a_vendor_redirect_is_not_followed(admin, tool):
    with FakeVendor("webhook") as vendor, FakeVendor("webhook") as inner:
        destination = hook(admin, tool, vendor)
        [row] = _pending(destination)
        vendor.fail_next(1, 307, {}, {"Location": inner.base_url + "/hooks/martech"})
        deliver(destination)
        assert inner.requests == []
    row.refresh_from_db()
    assert (row.status, row.response_code) == ("dead", 307)


# -- what is kept of a vendor's answer, and who reads it --------------------------------------

LEAK = "INTERNAL-ONLY admin panel: db_password=FAKE-DB-PW-456"


def _dead_letter_with_a_long_answer(admin, tool):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        [row] = _pending(destination)
        vendor.fail_next(1, 400, LEAK + "\x1b[31m\r\n" + "x" * 5000)
        deliver(destination)
    row.refresh_from_db()
    return destination, row


def test_a_vendor_answer_is_kept_short_and_without_control_characters(admin, tool):
    destination, row = _dead_letter_with_a_long_answer(admin, tool)
    assert row.status == "dead"
    assert row.error.startswith(LEAK)
    assert len(row.error) <= 300
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in row.error)
    destination.refresh_from_db()
    assert LEAK in destination.last_error
    assert "\x1b" not in destination.last_error


def test_only_those_who_manage_the_destination_read_the_vendor_answer_in_the_api(
    admin, tool, client
):
    destination, row = _dead_letter_with_a_long_answer(admin, tool)
    viewer = person_with(admin, "destinations.view", name="Mei Viewer")
    manager = person_with(admin, "destinations.view", "destinations.manage", name="Max Manager")
    client.force_login(viewer)
    for url in (f"/api/v1/dead-letters/{row.pk}/", f"/api/v1/deliveries/{row.pk}/"):
        body = client.get(url).json()
        assert body["error"] is None
        assert (body["status"], body["response_code"]) == ("dead", 400)
    for url in (
        "/api/v1/dead-letters/",
        "/api/v1/deliveries/",
        "/api/v1/destinations/",
        f"/api/v1/destinations/{destination.pk}/",
    ):
        assert "INTERNAL-ONLY" not in client.get(url).content.decode(), url
    client.force_login(manager)
    assert client.get(f"/api/v1/dead-letters/{row.pk}/").json()["error"].startswith(LEAK)
    detail = client.get(f"/api/v1/destinations/{destination.pk}/").json()
    assert LEAK in detail["last_error"]


def test_a_production_destination_answer_needs_send_production_too(admin, tool, client):
    destination, row = _dead_letter_with_a_long_answer(admin, tool)
    Destination.objects.filter(pk=destination.pk).update(environment="production")
    manager = person_with(admin, "destinations.view", "destinations.manage", name="Max Manager")
    client.force_login(manager)
    assert client.get(f"/api/v1/dead-letters/{row.pk}/").json()["error"] is None
    client.force_login(admin)
    assert client.get(f"/api/v1/dead-letters/{row.pk}/").json()["error"].startswith(LEAK)


def test_only_those_who_manage_the_destination_read_the_vendor_answer_on_pages(admin, tool, client):
    destination, _row = _dead_letter_with_a_long_answer(admin, tool)
    viewer = person_with(admin, "destinations.view", name="Mei Viewer")
    client.force_login(viewer)
    pages = [
        "/destinations/dead-letters/",
        "/destinations/deliveries/",
        "/destinations/",
        f"/destinations/{destination.pk}/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "INTERNAL-ONLY" not in html, url
    assert "answer hidden" in client.get("/destinations/dead-letters/").content.decode()
    client.force_login(admin)
    assert "INTERNAL-ONLY" in client.get("/destinations/dead-letters/").content.decode()


def test_a_search_does_not_reveal_a_vendor_answer_the_user_may_not_read(admin, tool, client):
    """Searching the hidden text would answer it one guess at a time."""
    _destination, row = _dead_letter_with_a_long_answer(admin, tool)
    viewer = person_with(admin, "destinations.view", name="Mei Viewer")
    client.force_login(viewer)
    assert client.get("/api/v1/dead-letters/?q=FAKE-DB-PW").json()["count"] == 0
    assert client.get("/api/v1/deliveries/?q=FAKE-DB-PW").json()["count"] == 0
    page = client.get("/destinations/dead-letters/?q=FAKE-DB-PW").content.decode()
    assert f'data-delivery="{row.pk}"' not in page
    assert client.get("/api/v1/dead-letters/?q=m0").json()["count"] == 1
    client.force_login(admin)
    assert client.get("/api/v1/dead-letters/?q=FAKE-DB-PW").json()["count"] == 1
    page = client.get("/destinations/dead-letters/?q=FAKE-DB-PW").content.decode()
    assert f'data-delivery="{row.pk}"' in page
