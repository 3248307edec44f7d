"""A privacy officer logs an erasure request, verifies and approves it, watches the tools'
tasks finish (a deletion API and a manual task she confirms) and prints the evidence."""

import pytest
from playwright.sync_api import expect

from apps.consent.defaults import ensure_default_purposes
from apps.destinations.services import destination_create
from apps.erasure.propagation import due_tasks, propagate
from apps.identity.services import link_record
from apps.tools.services import tool_create
from tests.browser.test_console_shell import _sign_in
from tests.destinations.vendors import FakeVendor
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_erasure_request_from_intake_to_evidence(live_server, page, screenshot, empty_broker):
    # given: a person known by three identifiers, a webhook with a deletion API, and a
    # support desk without one, owned by the officer herself
    ensure_default_purposes()
    officer = AdminFactory(full_name="Fatima Haddad")
    link_record(a=("user_id", "cus_7"), b=("email", "lena@example.de"), rule="login")
    link_record(a=("user_id", "cus_7"), b=("anonymous_id", "ajs-lena"), rule="identify")
    tool = tool_create(actor=officer, name="Data loader", vendor="Acme", category="Warehouse")
    tool_create(
        actor=officer,
        name="Zendesk",
        vendor="Zendesk",
        category="Support",
        data_categories=["contact"],
        technical_owner=officer,
    )
    hook = FakeVendor("webhook").start()
    destination_create(
        actor=officer,
        name="Data team webhook",
        adapter="webhook",
        tool=tool,
        is_enabled=True,
        config={
            "url": hook.base_url + "/hooks/martech",
            "deletion_url": hook.base_url + "/hooks/martech/erasure",
        },
        credentials=dict(hook.credentials),
    )
    base = live_server.url
    _sign_in(page, base, officer)

    # when: she logs the request, verifies the requester and approves
    page.goto(f"{base}/erasure/new/")
    page.get_by_label("Identifier of the person").fill("email:Lena@Example.de")
    page.get_by_label("Channel").select_option("email")
    page.get_by_label("Jurisdiction").select_option("gdpr")
    page.get_by_role("button", name="Log the request").click()
    expect(page.locator("[data-testid=deadline]")).to_contain_text("days left")
    page.get_by_label("Verification note").fill("Replied from the address on file")
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("button", name="Approve erasure").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Erase this person").click()
    expect(page.locator("body")).to_contain_text("suppressed and erased here")
    expect(page.locator("[data-testid=identifiers]")).to_contain_text("user_id:cu***_7")
    expect(page.locator("[data-testid=progress]")).to_contain_text("0 of 2 done")

    # then: the webhook gets the deletion; she confirms the manual task
    for pk in list(due_tasks().values_list("pk", flat=True)):
        propagate(pk)  # what the worker does
    page.reload()
    expect(page.locator("[data-testid=progress]")).to_contain_text("1 of 2 done")
    page.get_by_label("How Zendesk was erased").fill("Deleted the end-user and tickets")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("h2, .page-title").first).to_contain_text("Completed")
    screenshot("erasure-request")

    # and the evidence report shows the outcome with hashes only
    page.get_by_role("link", name="Evidence").click()
    expect(page.locator("[data-testid=outcome]")).to_contain_text("Completed")
    expect(page.locator("[data-testid=evidence]")).to_contain_text("Deleted the end-user")
    expect(page.locator("[data-testid=evidence]")).not_to_contain_text("lena@example.de")
    screenshot("erasure-evidence")
    [erase] = [r for r in hook.requests if r.path == "/hooks/martech/erasure"]
    hook.stop()
    assert erase.body["identifiers"]["email"] == "lena@example.de"
