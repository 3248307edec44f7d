"""A marketing-ops engineer writes a model over the warehouse, syncs it to a webhook with
mapped fields, looks at the dry run, then runs it and watches it finish."""

import pytest
from playwright.sync_api import expect

from apps.consent.defaults import ensure_default_purposes
from apps.syncs import running, services
from apps.syncs.models import SyncRun
from apps.tools.services import tool_create
from tests.browser.test_console_shell import _sign_in
from tests.destinations.vendors import FakeVendor
from tests.factories import AdminFactory
from tests.syncs.conftest import Table, destination_for, dsn, sent_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def warehouse_table():
    table = Table()
    yield table
    table.drop()


def test_a_model_synced_to_a_webhook_from_dry_run_to_run(
    live_server, page, screenshot, warehouse_table, empty_broker
):
    # given: a warehouse with three people and a webhook destination
    ensure_default_purposes()
    engineer = AdminFactory(full_name="Priya Natarajan")
    warehouse_table.fill(3)
    tool = tool_create(actor=engineer, name="Data loader", vendor="Acme", category="Warehouse")
    webhook_vendor = FakeVendor("webhook").start()
    services.warehouse_create(actor=engineer, name="Analytics", kind="postgres", dsn=dsn())
    destination_for(engineer, tool, webhook_vendor, name="Data team webhook")
    base = live_server.url
    _sign_in(page, base, engineer)

    # when: she writes the model and sees its preview
    page.goto(f"{base}/models/new/")
    page.get_by_label("Name").fill("Customers")
    page.get_by_label("Warehouse").select_option(label="Analytics")
    page.get_by_label("SQL").fill("SELECT id, email, name, ltv FROM wh_people")
    page.get_by_label("Primary-key column").fill("id")
    page.get_by_role("button", name="Check and save").click()
    expect(page.locator("[data-testid=preview]")).to_contain_text("person2@acme.example")

    # and creates a sync from it, mapping two columns
    page.get_by_role("link", name="Sync it").click()
    page.get_by_label("Name", exact=True).fill("Customers to the data team")
    page.get_by_label("Destination", exact=True).select_option(label="Data team webhook")
    page.get_by_label("Identifier column").fill("email")
    page.get_by_label("Identifier type").select_option("email")
    page.get_by_role("button", name="Create and map fields").click()
    page.get_by_label("Model column 1").select_option("name")
    page.get_by_label("Destination field 1").fill("full_name")
    page.get_by_label("Model column 2").select_option("ltv")
    page.get_by_label("Destination field 2").fill("lifetime value")
    page.get_by_role("button", name="Check and save").click()
    expect(page.locator("[data-testid=mappings-error]")).to_contain_text("lifetime value")
    page.get_by_label("Destination field 2").fill("lifetime_value")
    page.get_by_role("button", name="Check and save").click()
    expect(page.locator("[data-testid=mappings]")).to_contain_text("lifetime_value")

    # then: a dry run counts what would be sent and shows sample rows, sending nothing
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator("[data-testid=run-progress]")).to_contain_text("queued")
    running.execute(SyncRun.objects.get().pk)  # what the worker does
    expect(page.locator("[data-testid=run-progress]")).to_have_attribute(
        "data-run-status", "planned", timeout=10_000
    )
    # the page shows the dry run's result by itself, without a reload
    expect(page.locator("[data-testid=plan-added]")).to_have_text("3", timeout=10_000)
    expect(page.locator("[data-testid=sample]")).to_contain_text("person0@acme.example")
    assert webhook_vendor.requests == []
    screenshot("sync-dry-run")

    # when: she runs it
    page.get_by_role("link", name="Customers to the data team").click()
    page.get_by_role("button", name="Run now").click()
    running.execute(SyncRun.objects.filter(dry_run=False).get().pk)
    progress = page.locator("[data-testid=run-progress]")
    expect(progress).to_have_attribute("data-run-status", "succeeded", timeout=10_000)
    expect(progress).to_contain_text("3 of 3 rows done (100%)")
    screenshot("sync-run")
    rows = sent_rows(webhook_vendor)
    webhook_vendor.stop()
    assert sorted(r["fields"]["lifetime_value"] for r in rows) == [0, 1, 2]
