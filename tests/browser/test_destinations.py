"""A marketing-ops engineer sets up a webhook destination, sends a test to the sandbox inbox,
enables it, sees an event delivered, and replays a dead letter after the vendor is fixed."""

import pytest
import requests
from playwright.sync_api import expect

from apps.consent.defaults import ensure_default_purposes
from apps.destinations.delivery import deliver
from apps.destinations.models import Destination
from apps.events.pipeline import process_waiting
from apps.events.services import source_create
from apps.tools.services import tool_create
from tests.browser.test_console_shell import _sign_in
from tests.destinations.vendors import FakeVendor
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_webhook_destination_from_setup_to_a_replayed_dead_letter(live_server, page, screenshot):
    # given
    ensure_default_purposes()
    engineer = AdminFactory(full_name="Priya Natarajan")
    tool_create(actor=engineer, name="Data loader", vendor="Acme", category="Warehouse")
    _, key = source_create(actor=engineer, name="Web")
    base = live_server.url
    _sign_in(page, base, engineer)
    with FakeVendor("webhook") as vendor:
        # when: she creates the destination (disabled) and sends a test
        page.goto(f"{base}/destinations/new/")
        page.locator("#id_name").fill("Data team webhook")
        page.get_by_label("Vendor API").select_option("webhook")
        page.get_by_label("Registry tool").select_option(label="Data loader")
        page.get_by_label("Field mappings").fill("traits.first_name -> firstname")
        # the chosen vendor's own fields: its endpoint and its signing secret
        page.locator("#id_cfg_webhook__url").fill(vendor.base_url + "/hooks/martech")
        page.locator("#id_cred_webhook__signing_secret").fill(vendor.credentials["signing_secret"])
        page.get_by_role("button", name="Create destination").click()
        expect(page.locator("h2, .page-title").first).to_contain_text("Data team webhook")
        page.get_by_role("button", name="Send test (preview)").click()

        # then: the inbox shows exactly the request, the secret nowhere
        expect(page.locator("[data-capture]").first).to_contain_text("/hooks/martech")
        expect(page.locator("[data-capture]").first).to_contain_text('"firstname": "Ana"')
        expect(page.locator("body")).not_to_contain_text(vendor.credentials["signing_secret"])
        assert vendor.requests == []
        screenshot("destinations-sandbox-inbox")

        # when: she enables it and an order arrives while the vendor refuses it
        destination = Destination.objects.get(name="Data team webhook")
        page.goto(f"{base}/destinations/{destination.pk}/")
        page.get_by_role("button", name="Enable").click()
        page.locator("#confirm-dialog").get_by_role("button", name="Enable").click()
        expect(page.locator("body")).to_contain_text("enabled")
        vendor.fail_next(1, 400, {"error": "unknown field revenue"})
        order = {
            "type": "track",
            "event": "Order Completed",
            "anonymousId": "ajs-1",
            "messageId": "o-1",
            "properties": {"revenue": 42},
        }
        assert (
            requests.post(f"{base}/v1/track", json=order, auth=(key, ""), timeout=10).status_code
            == 200
        )
        process_waiting()
        deliver(Destination.objects.get(pk=destination.pk))

        # then: it is a dead letter with the vendor's words; after the fix she replays it
        page.goto(f"{base}/destinations/dead-letters/")
        row = page.locator("tr[data-delivery]").first
        expect(row).to_contain_text("unknown field revenue")
        row.get_by_role("checkbox").check()
        page.get_by_role("button", name="Replay the ticked ones").click()
        expect(page.locator("body")).to_contain_text("1 sent again")
        deliver(Destination.objects.get(pk=destination.pk))
        page.goto(f"{base}/destinations/{destination.pk}/")
        expect(page.locator("tr[data-delivery]").first).to_contain_text("Delivered")
        screenshot("destination-detail")
    assert [m["messageId"] for r in vendor.requests for m in r.body["batch"]] == ["o-1", "o-1"]
