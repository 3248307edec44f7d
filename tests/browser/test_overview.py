"""The demo's overview, as the operations director and as the privacy officer see it.

Each opens the console on what waits for them: Priya on the missed and near notice
deadlines, the dead letters, the held sync run and the intake verdict; Fatima on the erasure
she must approve and the links to review. The screenshots (artifacts/screenshots/
overview-*.png) are for a person to look at.
"""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from apps.accounts import demo
from tests.browser.test_look import _looks_as_with_the_full_css

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, base, local):
    page.goto(f"{base}/login/")
    page.fill("#id_username", f"{local}@{demo.DEMO_DOMAIN}")
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/")


def _keys(page) -> list[str]:
    return page.locator("[data-attention]").evaluate_all(
        "items => items.map(i => i.dataset.attention)"
    )


def test_the_demo_overview_puts_what_waits_for_each_persona_first(live_server, page, screenshot):
    # given
    call_command("load_demo")
    page.emulate_media(reduced_motion="reduce")  # the chart is drawn at once, for the picture

    # when: the operations director signs in
    _sign_in(page, live_server.url, "ops.admin")

    # then: a missed notice first, what fails, then deadlines and decisions
    attention = page.get_by_test_id("attention")
    expect(attention.get_by_role("heading", name="Needs your attention")).to_be_visible()
    keys = _keys(page)
    assert keys[0] == "tools.notice_missed"
    assert {"destinations.dead", "syncs.held", "intake.decide", "identity.review"} <= set(keys)
    expect(page.locator("[data-attention='tools.notice_missed']")).to_contain_text(
        "Braze: notice deadline missed"
    )
    expect(page.locator("[data-attention='tools.notice_soon']")).to_contain_text("AppsFlyer")
    # the recent changes are in words, without sign-ins
    expect(page.get_by_text("accounts.user.logged_in")).to_have_count(0)
    assert page.console_errors == []
    screenshot("overview-ops-admin")
    # and the list is styled as the full design system styles it
    _looks_as_with_the_full_css(page, "look-overview-attention")

    # when: the privacy officer signs in
    page.context.clear_cookies()
    _sign_in(page, live_server.url, "fatima.haddad")

    # then: the erasure she approves, due in 8 days, leads
    first = page.locator("[data-attention]").first
    expect(first).to_contain_text("Approve erasure request")
    expect(first).to_contain_text("due in 8 days")
    expect(page.locator("[data-attention='identity.review']")).to_be_visible()
    expect(page.locator("[data-attention='syncs.held']")).to_have_count(0)
    screenshot("overview-fatima")
