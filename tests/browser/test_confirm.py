"""Consequential actions ask once, in the browser: "Replay all" to a production destination
and approving an erasure open a dialog that states what the server counted (no native
prompt), Cancel leaves everything as it was, and the dialog's button acts. Without
JavaScript the same question comes as a page."""

import pytest
import requests
from playwright.sync_api import expect

from apps.consent.defaults import ensure_default_purposes
from apps.destinations.delivery import deliver
from apps.destinations.models import Delivery, Destination
from apps.destinations.services import destination_create
from apps.erasure import services as erasure
from apps.erasure.models import ErasureRequest, RequestStatus
from apps.events.pipeline import process_waiting
from apps.events.services import source_create
from apps.identity.services import link_record
from apps.tools.services import tool_create
from tests.browser.test_console_shell import _sign_in
from tests.destinations.vendors import FakeVendor
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _dead_letters_at_braze(base, admin, vendor, n=2):
    """``n`` orders refused by a production webhook called Braze: ``n`` dead letters."""
    ensure_default_purposes()
    tool = tool_create(actor=admin, name="Braze", vendor="Braze", category="Messaging")
    _, key = source_create(actor=admin, name="Web")
    destination = destination_create(
        actor=admin,
        name="Braze",
        adapter="webhook",
        tool=tool,
        environment="production",
        is_enabled=True,
        config={"url": vendor.base_url + "/hooks/martech"},
        credentials=dict(vendor.credentials),
    )
    vendor.fail_next(1, 400, {"error": "unknown attribute"})
    batch = [
        {
            "type": "track",
            "event": "Order Completed",
            "anonymousId": f"ajs-{i}",
            "messageId": f"o-{i}",
            "properties": {"revenue": i},
        }
        for i in range(n)
    ]
    sent = requests.post(f"{base}/v1/batch", json={"batch": batch}, auth=(key, ""), timeout=10)
    assert sent.status_code == 200
    process_waiting()
    deliver(destination)
    assert Delivery.objects.filter(status="dead").count() == n
    return destination


def _statuses():
    return set(Delivery.objects.values_list("status", flat=True))


def test_replay_all_to_production_asks_in_a_dialog_that_names_the_destination(
    live_server, page, screenshot
):
    # given: two dead letters at a production destination
    admin = AdminFactory(full_name="Ops Admin")
    base = live_server.url
    prompts = []
    page.on("dialog", lambda dialog: (prompts.append(dialog.message), dialog.dismiss()))
    with FakeVendor("webhook") as vendor:
        destination = _dead_letters_at_braze(base, admin, vendor)
        _sign_in(page, base, admin)
        page.goto(f"{base}/destinations/dead-letters/")

        # when: "Replay all" is clicked, then Cancel
        page.get_by_role("button", name="Replay all 2").click()
        dialog = page.locator("#confirm-dialog")

        # then: the dialog says what the server counted; nothing is sent yet
        expect(dialog.get_by_role("button", name="Send to Braze")).to_be_focused()
        expect(dialog).to_contain_text("Replay 2 dead letters to Braze?")
        expect(dialog).to_contain_text("Sends 2 deliveries again to Braze (production).")
        expect(dialog).to_contain_text("This cannot be undone.")
        screenshot("confirm-replay-all-production")
        assert _statuses() == {"dead"}
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        assert _statuses() == {"dead"}

        # when: asked again and confirmed
        page.get_by_role("button", name="Replay all 2").click()
        dialog.get_by_role("button", name="Send to Braze").click()

        # then: they are sent again, after one question and no native prompt
        expect(page.locator("body")).to_contain_text("2 sent again")
        deliver(Destination.objects.get(pk=destination.pk))
    assert _statuses() == {"delivered"}
    assert prompts == []
    assert page.console_errors == []


def test_approving_an_erasure_asks_in_a_dialog_with_the_counts(live_server, page, screenshot):
    # given: a verified request about a person the console knows by three identifiers
    ensure_default_purposes()
    officer = AdminFactory(full_name="Fatima Haddad")
    link_record(a=("user_id", "cus_7"), b=("email", "lena@example.de"), rule="login")
    link_record(a=("user_id", "cus_7"), b=("anonymous_id", "ajs-lena"), rule="identify")
    tool_create(
        actor=officer,
        name="Zendesk",
        vendor="Zendesk",
        category="Support",
        data_categories=["contact"],
        technical_owner=officer,
    )
    request = erasure.request_create(
        actor=officer, identifier="email:lena@example.de", channel="email", jurisdiction="gdpr"
    )
    erasure.request_verify(actor=officer, request=request, note="Replied from the address")
    base = live_server.url
    _sign_in(page, base, officer)
    page.goto(f"{base}/erasure/{request.pk}/")

    # when
    page.get_by_role("button", name="Approve erasure").click()

    # then
    dialog = page.locator("#confirm-dialog")
    expect(dialog.get_by_role("button", name="Erase this person")).to_be_focused()
    expect(dialog).to_contain_text(f"Erase the person of {request.reference} in 1 tool?")
    expect(dialog).to_contain_text("Suppresses 3 identifiers of the person at once")
    expect(dialog).to_contain_text("asks the owners of 1 tool to erase by hand")
    expect(dialog).to_contain_text("This cannot be undone.")
    screenshot("confirm-erasure-approval")
    assert ErasureRequest.objects.get(pk=request.pk).status == RequestStatus.VERIFIED
    dialog.get_by_role("button", name="Erase this person").click()
    expect(page.locator("body")).to_contain_text("suppressed and erased here")
    assert ErasureRequest.objects.get(pk=request.pk).status == RequestStatus.IN_PROGRESS
    assert page.console_errors == []


def test_without_javascript_replay_all_asks_on_a_page_and_then_acts(live_server, browser):
    # given: a browser with JavaScript off
    admin = AdminFactory(full_name="Ops Admin")
    base = live_server.url
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1366, "height": 860}
    )
    page = context.new_page()
    try:
        with FakeVendor("webhook") as vendor:
            destination = _dead_letters_at_braze(base, admin, vendor)
            _sign_in(page, base, admin)
            page.goto(f"{base}/destinations/dead-letters/")

            # when
            page.get_by_role("button", name="Replay all 2").click()

            # then: the confirmation page, with Cancel back to the list; nothing sent yet
            confirmation = page.get_by_test_id("confirmation")
            expect(page.locator(".page-title")).to_have_text("Replay 2 dead letters to Braze?")
            expect(confirmation).to_contain_text("Sends 2 deliveries again to Braze (production).")
            expect(confirmation.get_by_role("link", name="Cancel")).to_have_attribute(
                "href", "/destinations/dead-letters/"
            )
            page.screenshot(path=str(_path("confirm-no-js-replay-all")), full_page=True)
            assert _statuses() == {"dead"}
            confirmation.get_by_role("button", name="Send to Braze").click()
            expect(page.locator("body")).to_contain_text("2 sent again")
            deliver(Destination.objects.get(pk=destination.pk))
        assert _statuses() == {"delivered"}
    finally:
        context.close()


def _path(name):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
