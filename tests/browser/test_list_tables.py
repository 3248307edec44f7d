"""Sorting a list from its headers: the table is swapped in place, the address keeps the
order, and a filter changed afterwards keeps it too."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from apps.tools.services import tool_create
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _names(page):
    return page.locator("#list-results tbody tr td:first-child a").all_inner_texts()


def test_clicking_the_cost_header_sorts_the_tools_and_puts_the_order_in_the_address(
    live_server, page, screenshot
):
    # given
    admin = AdminFactory(full_name="Priya Raman")
    for name, cost, team in [
        ("Braze", "96000", "Lifecycle"),
        ("Amplitude", "40000", "Growth"),
        ("Segment", "120000", "Data"),
        ("Hotjar", "9000", "Growth"),
    ]:
        tool_create(
            actor=admin,
            name=name,
            vendor=name,
            category="x",
            capabilities=[],
            annual_cost=Decimal(cost),
            team=team,
        )
    _sign_in(page, live_server.url, admin)
    page.goto(f"{live_server.url}/tools/")
    expect(page.locator("#list-results tbody tr")).to_have_count(4)
    assert _names(page) == ["Amplitude", "Braze", "Hotjar", "Segment"]
    cost = page.locator("th", has_text="Annual cost")
    expect(cost).to_have_attribute("aria-sort", "none")

    # when
    cost.get_by_role("link").click()

    # then
    expect(page).to_have_url(f"{live_server.url}/tools/?sort=cost")
    expect(page.locator("th", has_text="Annual cost")).to_have_attribute("aria-sort", "ascending")
    assert _names(page) == ["Hotjar", "Amplitude", "Braze", "Segment"]

    # when the header is clicked again
    page.locator("th", has_text="Annual cost").get_by_role("link").click()

    # then
    expect(page).to_have_url(f"{live_server.url}/tools/?sort=-cost")
    expect(page.locator("th", has_text="Annual cost")).to_have_attribute("aria-sort", "descending")
    assert _names(page) == ["Segment", "Braze", "Amplitude", "Hotjar"]
    screenshot("tools-sorted-by-cost")

    # when a filter changes, the order stays
    page.fill("#id_team", "growth")
    page.locator("#list-filter button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/tools/?team=growth&sort=-cost")
    expect(page.locator("#list-results tbody tr")).to_have_count(2)
    assert _names(page) == ["Amplitude", "Hotjar"]
    assert page.console_errors == []
