"""A person signs in, sees the overview, and moves around with the command palette."""

import pytest
from playwright.sync_api import expect

from apps.audit.services import audit_record
from tests.browser.conftest import ARTIFACTS
from tests.factories import PASSWORD, AdminFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, base, person):
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/login/?next=/")
    page.fill("#id_username", person.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_sign_in_dashboard_and_command_palette(live_server, page, screenshot):
    # given
    admin = AdminFactory(full_name="Priya Raman")
    colleague = UserFactory(full_name="Dana Whitfield", job_title="Marketing Operations Manager")
    audit_record(
        action="accounts.user.updated", target=colleague, before={"team": "A"}, after={"team": "B"}
    )

    # when: signing in
    _sign_in(page, live_server.url, admin)

    # then: the overview shows the greeting, the stats, the chart and a ready status
    expect(page.get_by_role("heading", name="Good to see you, Priya")).to_be_visible()
    expect(page.locator("#status-text")).to_have_text("All systems ready", timeout=10_000)
    expect(page.locator("#activity-chart")).to_be_visible()
    page.wait_for_function("document.getElementById('activity-chart').width > 0")
    screenshot("dashboard")

    # when: opening the palette with Ctrl+K and searching for a person
    page.keyboard.press("Control+k")
    palette = page.locator("#command-palette")
    expect(palette).to_be_visible()
    expect(page.locator("#palette-input")).to_be_focused()
    page.keyboard.type("dana")
    option = (
        page.locator("#palette-results").get_by_role("option").filter(has_text="Dana Whitfield")
    )
    expect(option).to_be_visible()
    screenshot("command-palette")
    page.keyboard.press("Enter")

    # then: the person's page opens, with their history
    expect(page.get_by_role("heading", name="Dana Whitfield", level=1)).to_be_visible()
    expect(page.get_by_text("accounts.user.updated")).to_be_visible()

    # and: the palette also jumps to pages
    page.keyboard.press("Control+k")
    expect(page.locator("#palette-input")).to_be_focused()
    page.keyboard.type("audit")
    expect(page.locator("#palette-results").get_by_role("option").first).to_contain_text(
        "Audit log"
    )
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    screenshot("audit-log")

    # nothing was blocked by the Content Security Policy or failed in the page
    assert page.console_errors == []


def test_audit_filters_update_the_table_in_place_with_htmx(live_server, page):
    admin = AdminFactory()
    for i in range(3):
        audit_record(action="tools.tool.updated", metadata={"i": i})
    audit_record(action="accounts.user.deactivated")
    _sign_in(page, live_server.url, admin)
    page.goto(f"{live_server.url}/audit/")
    page.fill("#id_q", "deactivated")
    expect(page.locator("#list-results tbody tr")).to_have_count(1)
    expect(page).to_have_url(f"{live_server.url}/audit/?q=deactivated", timeout=5000)
    assert page.console_errors == []


def test_friendly_pages_for_missing_and_forbidden(live_server, page, screenshot):
    person = UserFactory()
    _sign_in(page, live_server.url, person)
    page.goto(f"{live_server.url}/people/999999/")
    expect(page.get_by_text("not visible to you")).to_be_visible()
    page.goto(f"{live_server.url}/audit/")
    expect(page.get_by_text("Not allowed")).to_be_visible()
    screenshot("forbidden")


def test_layout_collapses_into_a_menu_on_a_phone(live_server, browser):
    admin = AdminFactory()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        _sign_in(phone, live_server.url, admin)
        toggler = phone.locator(".navbar-toggler")
        expect(toggler).to_be_visible()
        expect(phone.locator("#sidebar-menu")).to_be_hidden()
        toggler.click()
        expect(phone.locator("#sidebar-menu").get_by_text("People")).to_be_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        phone.screenshot(path=str(ARTIFACTS / "phone-menu.png"))
    finally:
        context.close()


def test_api_reference_renders_from_local_assets_within_the_policy(live_server, page):
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_text("MarTech Console API")).to_be_visible(timeout=10_000)
    expect(page.get_by_text("/api/v1/audit-events/").first).to_be_visible()
    assert page.console_errors == []
