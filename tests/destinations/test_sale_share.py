"""Sale and sharing of personal data belongs to the adapter: an ad network (Meta Conversions
API, Google Ads) gets a person's data only when their consent grants ``sale_share``, whatever
purposes an admin ticked. Visitors come through the real collection API (``/v1/consent`` and
``/v1/batch``, with and without ``Sec-GPC: 1``), the pipeline and routing, to loopback vendors.

Under CCPA/CPRA the purpose is allowed until the person opts out (a GPC signal is an opt-out);
under GDPR every purpose but the strictly necessary is opt-in, ``sale_share`` included, so a
GDPR visitor reaches an ad network only after granting both ``advertising`` and ``sale_share``.
"""

import base64
import importlib
import json

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from apps.destinations import services
from apps.destinations.delivery import deliver
from apps.destinations.models import Delivery, Destination
from apps.events.pipeline import process_waiting
from martech.common.errors import ApplicationError

from .conftest import send
from .vendors import FakeVendor

AD_NETWORKS = ("meta_capi", "google_ads")
CONFIG = {
    "meta_capi": {"pixel_id": "123456789012345"},
    "google_ads": {"customer_id": "123-456-7890", "conversion_action_id": "987654"},
}


def _ad_network(admin, tool, vendor, **fields) -> Destination:
    """An ad-network destination at a loopback vendor whose stored purposes say only
    ``advertising``: what an admin ticked before the adapter declared its sharing (the
    service no longer stores such a list)."""
    destination = services.destination_create(
        actor=admin,
        name=f"{vendor.kind} ads",
        adapter=vendor.kind,
        tool=tool,
        environment="sandbox",
        config=CONFIG[vendor.kind],
        base_url=vendor.base_url,
        credentials=dict(vendor.credentials),
        event_names=["Order Completed"],
        is_enabled=True,
        **fields,
    )
    Destination.objects.filter(pk=destination.pk).update(purposes=["advertising"])
    destination.refresh_from_db()
    return destination


def _consent(client, raw, who, jurisdiction, choices, *, gpc=False):
    """A banner's choices through ``POST /v1/consent``, as the website sends them."""
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    body = {"anonymousId": who, "jurisdiction": jurisdiction, "choices": choices}
    headers = {"HTTP_SEC_GPC": "1"} if gpc else {}
    response = client.post(
        "/v1/consent",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
        **headers,
    )
    assert response.status_code == 200, response.content


def _purchase(n, who):
    """An order with what both ad networks match on: an email and a Google click id."""
    return {
        "type": "track",
        "event": "Order Completed",
        "messageId": f"order-{n}",
        "anonymousId": who,
        "properties": {"revenue": 59.0, "currency": "USD"},
        "context": {
            "traits": {"email": f"{who}@shop.example"},
            "page": {"url": f"https://shop.example/thanks?gclid=Cj0KCQ-{who}"},
        },
    }


def _received(vendor) -> int:
    """How many purchases the vendor was sent (Meta's ``data``, Google's ``conversions``)."""
    key = "data" if vendor.kind == "meta_capi" else "conversions"
    return sum(len((r.body or {}).get(key) or []) for r in vendor.requests)


# jurisdiction, the banner's choices, GPC on, whether the ad networks get the purchase
MATRIX = [
    ("ccpa", {"analytics": True}, True, False),
    ("ccpa", {"analytics": True}, False, True),
    ("ccpa", {"advertising": True}, True, False),
    ("gdpr", {"analytics": True}, False, False),
    ("gdpr", {"advertising": True}, False, False),
    ("gdpr", {"advertising": True, "sale_share": True}, False, True),
    ("gdpr", {"advertising": True, "sale_share": True}, True, False),
]


@pytest.mark.parametrize(("jurisdiction", "choices", "gpc", "delivered"), MATRIX)
def test_an_ad_network_gets_a_purchase_only_when_sale_and_sharing_is_granted(
    client, admin, tool, web, jurisdiction, choices, gpc, delivered
):
    # given Meta and Google Ads destinations whose admin ticked only "advertising"
    _, raw = web
    with FakeVendor("meta_capi") as meta, FakeVendor("google_ads") as google:
        destinations = [_ad_network(admin, tool, meta), _ad_network(admin, tool, google)]
        # when a visitor under this regime chooses, with or without GPC, then buys
        _consent(client, raw, "shopper", jurisdiction, choices, gpc=gpc)
        headers = {"HTTP_SEC_GPC": "1"} if gpc else {}
        send(client, raw, [_purchase(1, "shopper")], **headers)
        assert process_waiting() == 1
        for destination in destinations:
            deliver(destination)
        # then both ad networks get the purchase only where sale/share is granted
        assert (_received(meta), _received(google)) == ((1, 1) if delivered else (0, 0))
    rows = Delivery.objects.filter(destination__in=destinations)
    if delivered:
        assert {r.status for r in rows} == {"delivered"}
    else:
        assert {(r.status, r.reason) for r in rows} == {("filtered", "consent")}
        assert all(r.consent["sale_share"] is False for r in rows)


def test_a_dead_letter_to_an_ad_network_is_not_replayed_after_a_gpc_opt_out(
    client, admin, tool, web
):
    # given a Californian's purchase that Meta refused once
    _, raw = web
    with FakeVendor("meta_capi") as meta:
        destination = _ad_network(admin, tool, meta)
        _consent(client, raw, "ca-buyer", "ccpa", {"analytics": True})
        meta.fail_next(1, 400, {"error": {"message": "Invalid parameter", "code": 100}})
        send(client, raw, [_purchase(1, "ca-buyer")])
        process_waiting()
        deliver(destination)
        dead = list(Delivery.objects.filter(destination=destination, status="dead"))
        assert len(dead) == 1
        # when their browser then sends Global Privacy Control, and the dead letter is replayed
        _consent(client, raw, "ca-buyer", "ccpa", {}, gpc=True)
        counts = services.deliveries_replay(actor=admin, deliveries=dead)
        deliver(destination)
        # then it is filtered for consent and Meta hears nothing more
        assert len(meta.requests) == 1  # the refused first attempt
    assert counts == {"replayed": 0, "filtered": 1}
    row = Delivery.objects.get(destination=destination)
    assert (row.status, row.reason, row.consent["sale_share"]) == ("filtered", "consent", False)


def test_a_pending_delivery_routed_without_sale_share_is_filtered_when_it_is_taken(admin, tool):
    # given a delivery to Meta routed when only "advertising" was checked
    with FakeVendor("meta_capi") as meta:
        destination = _ad_network(admin, tool, meta)
        row = Delivery.objects.create(
            destination=destination,
            message_id="early",
            status="pending",
            next_attempt_at=timezone.now(),
            subject="anonymous_id:early",
            consent={"advertising": True, "sale_share": False},
            payload={
                "kind": "event",
                "identifiers": {"email": "early@shop.example"},
                "message": _purchase(1, "early"),
            },
        )
        # when the delivery engine takes it
        run = deliver(destination)
        # then nothing is sent: it is filtered for consent
        assert meta.requests == []
    row.refresh_from_db()
    assert (row.status, row.reason, row.payload, run.filtered) == ("filtered", "consent", None, 1)


@pytest.mark.parametrize("adapter", AD_NETWORKS)
def test_saving_an_ad_network_destination_stores_sale_share_and_refuses_a_list_without_it(
    admin, tool, adapter
):
    # given an ad-network destination created without a purposes list
    destination = services.destination_create(
        actor=admin, name="Ads", adapter=adapter, tool=tool, config=CONFIG[adapter]
    )
    # then sale_share is stored among its purposes
    assert destination.purposes == ["sale_share"]
    # when a change sends a list without it, it is refused with a code
    with pytest.raises(ApplicationError) as caught:
        services.destination_update(actor=admin, destination=destination, purposes=["advertising"])
    assert caught.value.code == "purpose_required"
    assert "sharing personal data for advertising" in caught.value.message
    # and a change that keeps it, or names no purposes, stores it
    services.destination_update(
        actor=admin, destination=destination, purposes=["advertising", "sale_share"]
    )
    services.destination_update(actor=admin, destination=destination, description="Ads")
    destination.refresh_from_db()
    assert destination.purposes == ["advertising", "sale_share"]


def test_a_destination_that_does_not_sell_or_share_keeps_the_purposes_it_was_given(admin, tool):
    destination = services.destination_create(
        actor=admin,
        name="Hooks",
        adapter="webhook",
        tool=tool,
        config={"url": "https://hooks.acme.example/in"},
        purposes=["analytics"],
    )
    assert destination.purposes == ["analytics"]
    assert destination.required_purposes == ("analytics",)


def test_the_api_shows_sale_share_and_refuses_removing_it_with_a_400(admin, admin_api, tool):
    # given a Meta destination created through the API
    created = admin_api.post(
        "/api/v1/destinations/",
        {
            "name": "Meta",
            "adapter": "meta_capi",
            "tool": tool.pk,
            "config": CONFIG["meta_capi"],
            "purposes": ["advertising", "sale_share"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["purposes"] == ["advertising", "sale_share"]
    # when a client removes sale_share
    pk = created.json()["id"]
    refused = admin_api.patch(
        f"/api/v1/destinations/{pk}/", {"purposes": ["advertising"]}, format="json"
    )
    # then it is a 400 saying why, and the destination keeps it
    assert refused.status_code == 400
    assert refused.json()["code"] == "purpose_required"
    assert "Meta" in refused.json()["message"]
    assert admin_api.get(f"/api/v1/destinations/{pk}/").json()["purposes"] == [
        "advertising",
        "sale_share",
    ]
    # and one created without purposes shows it too
    bare = admin_api.post(
        "/api/v1/destinations/",
        {
            "name": "Google",
            "adapter": "google_ads",
            "tool": tool.pk,
            "config": CONFIG["google_ads"],
        },
        format="json",
    )
    assert bare.status_code == 201, bare.content
    assert bare.json()["purposes"] == ["sale_share"]


def test_the_form_shows_sale_share_ticked_and_fixed_and_keeps_it_on_save(admin, admin_client, tool):
    # given a Meta destination
    destination = services.destination_create(
        actor=admin,
        name="Meta",
        adapter="meta_capi",
        tool=tool,
        config=CONFIG["meta_capi"],
        purposes=["advertising", "sale_share"],
    )
    url = reverse("destinations:destination_edit", args=[destination.pk])
    # when its edit form is shown
    page = admin_client.get(url).content.decode()
    # then sale_share is ticked and disabled, and the form says why
    box = next(tag for tag in page.split("<input") if 'value="sale_share"' in tag)
    assert "checked" in box
    assert "disabled" in box
    assert "Required: sending to Meta is sharing personal data for advertising" in page
    # when the form is saved (a browser does not post a disabled box)
    form = {
        "name": "Meta",
        "adapter": "meta_capi",
        "tool": tool.pk,
        "environment": "sandbox",
        "sends": "events",
        "purposes": ["advertising"],
        "config": json.dumps(CONFIG["meta_capi"]),
    }
    response = admin_client.post(url, form)
    # then it is saved with sale_share still among its purposes
    assert response.status_code == 302, response.content.decode()[:2000]
    destination.refresh_from_db()
    assert destination.purposes == ["advertising", "sale_share"]
    # and a webhook's form leaves sale_share free to tick
    hook = services.destination_create(
        actor=admin,
        name="Hook",
        adapter="webhook",
        tool=tool,
        config={"url": "https://hooks.acme.example/in"},
    )
    page = admin_client.get(reverse("destinations:destination_edit", args=[hook.pk]))
    box = next(t for t in page.content.decode().split("<input") if 'value="sale_share"' in t)
    assert "disabled" not in box


def test_the_data_migration_adds_sale_share_to_existing_ad_network_destinations(admin, tool):
    # given ad-network destinations stored with "advertising" only, and a webhook
    ads = [
        services.destination_create(
            actor=admin, name=f"{a} ads", adapter=a, tool=tool, config=CONFIG[a]
        )
        for a in AD_NETWORKS
    ]
    hook = services.destination_create(
        actor=admin,
        name="Hook",
        adapter="webhook",
        tool=tool,
        config={"url": "https://hooks.acme.example/in"},
        purposes=["analytics"],
    )
    Destination.objects.filter(pk__in=[d.pk for d in ads]).update(purposes=["advertising"])
    # when the migration runs
    migration = importlib.import_module(
        "apps.destinations.migrations.0006_sale_share_for_ad_networks"
    )
    migration.add_sale_share(django_apps, None)
    # then the ad networks hold sale_share and the webhook is as it was
    stored = dict(Destination.objects.values_list("name", "purposes"))
    assert stored == {
        "meta_capi ads": ["advertising", "sale_share"],
        "google_ads ads": ["advertising", "sale_share"],
        hook.name: ["analytics"],
    }
