"""The destination pages and API: health, deliveries, dead letters with replay, the sandbox
inbox, the event's routes, and credentials that never come back."""

from django.urls import reverse

from apps.destinations.delivery import deliver
from apps.destinations.models import Delivery
from apps.events.models import Event
from apps.events.pipeline import process_waiting

from .conftest import hook, send
from .vendors import FakeVendor


def _orders(n):
    return [
        {
            "type": "track",
            "event": "Order Completed",
            "messageId": f"o{i}",
            "anonymousId": f"v{i}",
            "properties": {"revenue": i},
        }
        for i in range(n)
    ]


def test_the_pages_show_health_deliveries_dead_letters_and_where_an_event_went(
    client, admin_client, admin, tool, web
):
    _, raw = web
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor, name="Orders hook")
        vendor.fail_next(1, 400, {"error": "unknown field revenue"})
        send(client, raw, _orders(3))
        process_waiting()
        deliver(destination)
    detail = admin_client.get(reverse("destinations:destination_detail", args=[destination.pk]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "Orders hook" in body
    assert 'id="delivery-chart"' in body
    assert "0%" in body  # the whole batch was refused
    listing = admin_client.get(reverse("destinations:destination_list")).content.decode()
    assert f'data-destination="{destination.pk}"' in listing
    dead = admin_client.get(reverse("destinations:dead_letters")).content.decode()
    assert dead.count("data-delivery=") == 3
    assert "unknown field revenue" in dead
    event = Event.objects.get(message_id="o1")
    page = admin_client.get(reverse("events:event_detail", args=[event.pk])).content.decode()
    assert "Where it went" in page
    assert f'data-route="{destination.pk}"' in page
    assert "Dead letter" in page


def test_replay_from_the_dead_letter_page_sends_them_again(client, admin_client, admin, tool, web):
    _, raw = web
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        vendor.fail_next(1, 400, {"error": "bad"})
        send(client, raw, _orders(2))
        process_waiting()
        deliver(destination)
        ids = list(Delivery.objects.filter(status="dead").values_list("pk", flat=True))
        response = admin_client.post(reverse("destinations:replay"), {"ids": ids})
        assert response.status_code == 302
        deliver(destination)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    empty = admin_client.post(reverse("destinations:replay"), {})
    assert empty.status_code == 302  # back with a message, not a 500


def test_send_test_fills_the_inbox_page(admin_client, admin, tool):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        response = admin_client.post(
            reverse("destinations:destination_test", args=[destination.pk])
        )
    assert response.status_code == 302
    inbox = admin_client.get(response["Location"]).content.decode()
    assert "/hooks/martech" in inbox
    assert "Order Completed" in inbox


def test_credentials_never_come_back_in_pages_or_the_api(admin_client, admin_api, admin, tool):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
    secret = vendor.credentials["signing_secret"]
    for url in (
        reverse("destinations:destination_detail", args=[destination.pk]),
        reverse("destinations:destination_edit", args=[destination.pk]),
    ):
        assert secret not in admin_client.get(url).content.decode()
    body = admin_api.get(reverse("api:destination-detail", args=[destination.pk])).json()
    assert "credentials" not in body
    assert body["credentials_set"] == ["signing_secret"]
    assert secret not in str(body)


def test_the_api_refuses_bad_configuration_and_unknown_credentials_with_codes(admin_api, tool):
    url = reverse("api:destination-list")
    base = {"name": "Hook", "adapter": "webhook", "tool": tool.pk}
    missing = admin_api.post(url, {**base, "config": {}}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (400, "invalid_config")
    assert "url" in missing.json()["message"]
    creds = admin_api.post(
        url,
        {**base, "config": {"url": "https://x.example/h"}, "credentials": {"api_key": "k"}},
        format="json",
    )
    assert (creds.status_code, creds.json()["code"]) == (400, "invalid_credentials")
    purpose = admin_api.post(
        url,
        {**base, "config": {"url": "https://x.example/h"}, "purposes": ["telepathy"]},
        format="json",
    )
    assert (purpose.status_code, purpose.json()["code"]) == (400, "invalid_purposes")
    adapter = admin_api.post(url, {**base, "adapter": "pigeon"}, format="json")
    assert adapter.status_code == 400
    ok = admin_api.post(
        url,
        {
            **base,
            "config": {"url": "https://x.example/h"},
            "mappings": [{"from": "traits.email", "to": "email"}],
        },
        format="json",
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["mappings"] == [{"from": "traits.email", "to": "email"}]
