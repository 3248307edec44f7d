"""A data engineer connects a Redshift warehouse: the form shows the chosen kind's
connection details only, the DSN is never shown back, and the page names the kind."""

import pytest
from playwright.sync_api import expect

from apps.syncs.warehouses import MODULES
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory
from tests.syncs.conftest import dsn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.postgres_only(reason="the Redshift warehouse is the PostgreSQL test server")
def test_a_redshift_warehouse_is_connected_with_only_its_own_fields_shown(
    live_server, page, screenshot
):
    # given
    engineer = AdminFactory(full_name="Priya Natarajan")
    base = live_server.url
    _sign_in(page, base, engineer)
    # when she opens the form and picks Redshift
    page.goto(f"{base}/warehouses/new/")
    page.get_by_label("Name", exact=True).fill("Redshift analytics")
    page.get_by_label("Kind").select_option(label="Amazon Redshift")
    # then only Redshift's details show
    expect(page.locator("[data-kind-group=redshift]")).to_be_visible()
    for kind in MODULES:
        if kind != "redshift":
            expect(page.locator(f"[data-kind-group={kind}]")).to_be_hidden()
    screenshot("warehouse-form-redshift")
    # when she enters the DSN and connects
    page.locator("[name=cred_redshift__dsn]").fill(dsn())
    page.get_by_role("button", name="Connect").click()
    # then the warehouse's page names the kind and where it is
    expect(page.locator("[data-testid=kind]")).to_have_text("Amazon Redshift")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("[data-testid=last-test]")).to_contain_text("connected")
    screenshot("warehouse-redshift-detail")
    # and the edit form keeps the DSN without showing it
    page.get_by_role("link", name="Edit").click()
    expect(page.locator("[name=cred_redshift__dsn]")).to_have_value("")
    expect(page.locator("[data-kind-group=redshift]")).to_contain_text(
        "Stored. Leave blank to keep it."
    )
    assert page.console_errors == []


def test_without_script_every_kind_shows_under_its_heading(live_server, browser):
    engineer = AdminFactory(full_name="Priya Natarajan")
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1366, "height": 860}
    )
    page = context.new_page()
    try:
        _sign_in(page, live_server.url, engineer)
        page.goto(f"{live_server.url}/warehouses/new/")
        for kind in MODULES:
            expect(page.locator(f"[data-kind-group={kind}]")).to_be_visible()
        expect(page.locator("[data-credentials-note]")).to_be_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "warehouse-form-no-script.png"), full_page=True)
    finally:
        context.close()
