"""An engineer creates a source, copies its write key (shown once), sends events with it,
and watches them arrive in the live stream."""

import pytest
import requests
from playwright.sync_api import expect

from apps.consent.defaults import ensure_default_purposes
from apps.events.pipeline import process_waiting
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_source_sends_events_that_appear_in_the_live_stream(live_server, page, screenshot):
    # given
    ensure_default_purposes()
    engineer = AdminFactory(full_name="Jonas Berg")
    base = live_server.url
    _sign_in(page, base, engineer)

    # when: she creates a source and copies the key from the only page that shows it
    page.goto(f"{base}/sources/new/")
    page.get_by_label("Name").fill("Checkout web")
    page.get_by_label("Allowed origins").fill("https://checkout.acme.example")
    page.get_by_role("button", name="Create and show the write key").click()
    key = page.get_by_test_id("write-key").input_value()
    assert key.startswith("wk_")
    page.get_by_role("link", name="I have copied it").click()
    expect(page.locator("body")).not_to_contain_text(key)

    # and her site sends a batch with it
    response = requests.post(
        f"{base}/v1/batch",
        json={
            "batch": [
                {
                    "type": "track",
                    "event": "Checkout Started",
                    "anonymousId": "ajs-77",
                    "messageId": "m-1",
                    "properties": {"value": 42},
                }
            ]
        },
        auth=(key, ""),
        timeout=10,
    )
    assert response.status_code == 200
    process_waiting()

    # then: the live stream shows it, processed, without reloading the page
    page.goto(f"{base}/events/")
    row = page.locator("tr[data-event]").first
    expect(row).to_contain_text("Checkout Started")
    expect(row).to_contain_text("processed")
    second = {"event": "Coupon Applied", "anonymousId": "ajs-77", "messageId": "m-2"}
    requests.post(f"{base}/v1/track", json=second, auth=(key, ""), timeout=10)
    expect(page.locator("tr[data-event]").first).to_contain_text("Coupon Applied", timeout=15_000)
    screenshot("events-live-stream")
    page.locator("tr[data-event]").first.get_by_role("link").click()
    expect(page.get_by_test_id("raw")).to_contain_text('"messageId": "m-2"')
