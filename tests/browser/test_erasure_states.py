"""At 1440 x 900 a privacy officer reaches every task's Confirm and N/A without scrolling
sideways, and the evidence report prints with its heading."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.consent.defaults import ensure_default_purposes
from apps.destinations.services import destination_create
from apps.erasure import services
from apps.erasure.models import ErasureTask, TaskKind, TaskStatus
from apps.tools.services import tool_create
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MANUAL_TOOLS = (
    "AppsFlyer",
    "Branch",
    "Customer.io",
    "HubSpot Marketing Hub",
    "OneTrust",
    "Salesforce Sales Cloud",
    "Segment",
)


def _request_with_many_tools(officer):
    """An approved request: three deletion APIs (one failed with a long error, one done with a
    long receipt) and a manual task per registry tool, each owned by someone."""
    ensure_default_purposes()
    owner = UserFactory(email="marcus.lee.operations@acme.example", full_name="Marcus Lee")
    hooks = tool_create(actor=officer, name="Data loader", vendor="Acme", category="Warehouse")
    for name in ("Braze (production)", "Data team webhook", "UX loopback webhook"):
        destination_create(
            actor=officer,
            name=name,
            adapter="webhook",
            tool=hooks,
            is_enabled=True,
            config={
                "url": "https://hooks.acme.example/martech",
                "deletion_url": "https://hooks.acme.example/erasure",
            },
            credentials={"signing_secret": "whsec-test-secret"},
        )
    for name in MANUAL_TOOLS:
        tool_create(
            actor=officer,
            name=name,
            vendor=name,
            category="Marketing",
            data_categories=["contact"],
            technical_owner=owner,
        )
    request = services.request_create(
        actor=officer, identifier="email:user@example.com", channel="support", jurisdiction="gdpr"
    )
    services.request_verify(actor=officer, request=request, note="Replied from the account")
    services.request_approve(actor=officer, request=request)
    api = list(ErasureTask.objects.filter(request=request, kind=TaskKind.API).order_by("name"))
    ErasureTask.objects.filter(pk=api[0].pk).update(
        status=TaskStatus.FAILED,
        attempts=5,
        last_error="Could not reach the vendor: ConnectError. " * 4,
    )
    ErasureTask.objects.filter(pk=api[1].pk).update(
        status=TaskStatus.DONE,
        attempts=1,
        finished_at=timezone.now(),
        receipt='{"ok":true,"job":"del_7f3a9c2e41b84d0c9e1f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3"}',
    )
    return request


def test_every_task_action_is_inside_the_viewport_at_1440_px(live_server, page, screenshot):
    officer = AdminFactory(full_name="Fatima Haddad", email="fatima.haddad@acme.example")
    request = _request_with_many_tools(officer)
    page.set_viewport_size({"width": 1440, "height": 900})
    _sign_in(page, live_server.url, officer)

    page.goto(f"{live_server.url}/erasure/{request.pk}/")
    tasks = page.locator("[data-testid=tasks]")
    expect(tasks).to_be_visible()
    buttons = tasks.get_by_role("button")
    names = {buttons.nth(i).inner_text() for i in range(buttons.count())}
    assert {"Confirm", "N/A", "Retry"} <= names
    screenshot("erasure-tasks-1440")
    # nothing scrolls sideways: not the page, not the table's card
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    box = tasks.locator("xpath=..")
    assert box.evaluate("el => el.scrollWidth <= el.clientWidth"), box.evaluate(
        "el => [el.scrollWidth, el.clientWidth]"
    )
    for i in range(buttons.count()):
        button = buttons.nth(i)
        button.scroll_into_view_if_needed()
        where = button.bounding_box()
        assert where["x"] >= 0
        assert where["x"] + where["width"] <= 1440, (button.inner_text(), where)
    # and a manual task is confirmed from where it is
    tasks.get_by_label("How Segment was erased").fill("Deleted the user in the admin screen")
    page.locator("tr", has_text="Segment").get_by_role("button", name="Confirm").click()
    expect(page.locator("tr", has_text="Segment")).to_contain_text("Done")


def test_the_evidence_prints_with_its_heading_from_its_print_button(live_server, page, screenshot):
    officer = AdminFactory(full_name="Fatima Haddad", email="fatima.haddad@acme.example")
    request = _request_with_many_tools(officer)
    page.set_viewport_size({"width": 1440, "height": 900})
    # the browser's print dialog is replaced by a note that it was asked for
    page.add_init_script("window.print = () => { window.printed = true; };")
    _sign_in(page, live_server.url, officer)

    page.goto(f"{live_server.url}/erasure/{request.pk}/evidence/")
    heading = page.get_by_test_id("document-title")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed === true")
    assert page.console_errors == []

    page.emulate_media(media="print")
    expect(heading).to_be_visible()
    expect(heading).to_have_text(f"Erasure evidence: {request.reference}")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    screenshot("erasure-evidence-print")


def test_on_a_phone_the_request_title_and_its_status_read_whole(live_server, browser):
    officer = AdminFactory(full_name="Fatima Haddad", email="fatima.haddad@acme.example")
    request = _request_with_many_tools(officer)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        _sign_in(phone, live_server.url, officer)
        phone.goto(f"{live_server.url}/erasure/{request.pk}/")
        phone.screenshot(path=str(ARTIFACTS / "erasure-request-390.png"))
        title = phone.locator("h1.page-title")
        badge = title.locator(".badge")
        expect(badge).to_have_text("In progress")
        # the status badge is shown whole, not cut to "progre"
        assert badge.evaluate("el => el.scrollWidth <= el.clientWidth"), badge.evaluate(
            "el => [el.scrollWidth, el.clientWidth]"
        )
        # the reference stays on one line
        reference = phone.evaluate(
            "() => { const r = document.createRange();"
            " r.selectNodeContents(document.querySelector('h1.page-title').firstChild);"
            " return r.getClientRects().length; }"
        )
        assert reference == 1
        # the actions stay on the screen, and nothing scrolls sideways
        for button in ("Evidence", "CSV"):
            where = phone.get_by_role("link", name=button).bounding_box()
            assert where["x"] >= 0, (button, where)
            assert where["x"] + where["width"] <= 390, (button, where)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
