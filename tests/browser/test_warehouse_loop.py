"""A data engineer connects the company's DuckDB warehouse, writes a model over it and syncs it
to a webhook; then adds the same warehouse as a destination and sees the events land there."""

import duckdb
import pytest
import requests
from django.conf import settings
from playwright.sync_api import expect

from apps.consent.defaults import ensure_default_purposes
from apps.destinations.models import Destination
from apps.destinations.warehouse import loader
from apps.events.pipeline import process_waiting
from apps.events.services import source_create
from apps.syncs import running
from apps.syncs.models import SyncRun
from apps.tools.services import tool_create
from tests.browser.test_console_shell import _sign_in
from tests.destinations.vendors import FakeVendor
from tests.factories import AdminFactory
from tests.syncs.conftest import destination_for, sent_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _warehouse_file():
    """The company's DuckDB file: three customers with their lifetime value."""
    path = settings.VAR_DIR / "warehouses" / "company.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA crm")
        connection.execute(
            "CREATE TABLE crm.customers (id VARCHAR, email VARCHAR, ltv DOUBLE); "
            "INSERT INTO crm.customers VALUES ('c1', 'ana@acme.example', 120.5), "
            "('c2', 'ben@acme.example', 80), ('c3', 'chloe@acme.example', 0)"
        )
    return path


def test_a_duckdb_warehouse_is_read_by_a_synced_model_and_loaded_with_the_event_stream(
    live_server, page, screenshot, empty_broker
):
    # given: the warehouse file, a webhook for the sync, a website sending events
    ensure_default_purposes()
    path = _warehouse_file()
    engineer = AdminFactory(full_name="Priya Natarajan")
    tool = tool_create(actor=engineer, name="Data loader", vendor="Acme", category="Warehouse")
    vendor = FakeVendor("webhook").start()
    destination_for(engineer, tool, vendor, name="Data team webhook")
    _, key = source_create(actor=engineer, name="Web")
    base = live_server.url
    _sign_in(page, base, engineer)

    # when: she connects the warehouse
    page.goto(f"{base}/warehouses/new/")
    page.get_by_label("Name", exact=True).fill("Company lakehouse")
    page.get_by_label("Kind").select_option(label="DuckDB / MotherDuck")
    page.locator("[name=cred_duckdb__path]").fill("company.duckdb")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("[data-testid=kind]")).to_have_text("DuckDB / MotherDuck")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("[data-testid=last-test]")).to_contain_text("connected")

    # and writes a model over it, and syncs it to the webhook
    page.goto(f"{base}/models/new/")
    page.get_by_label("Name").fill("Customer value")
    page.get_by_label("Warehouse").select_option(label="Company lakehouse")
    page.get_by_label("SQL").fill("SELECT id, email, ltv FROM crm.customers")
    page.get_by_label("Primary-key column").fill("id")
    page.get_by_role("button", name="Check and save").click()
    expect(page.locator("[data-testid=preview]")).to_contain_text("ben@acme.example")
    page.get_by_role("link", name="Sync it").click()
    page.get_by_label("Name", exact=True).fill("Customer value to the data team")
    page.get_by_label("Destination", exact=True).select_option(label="Data team webhook")
    page.get_by_label("Identifier column").fill("email")
    page.get_by_label("Identifier type").select_option("email")
    page.get_by_role("button", name="Create and map fields").click()
    page.get_by_label("Model column 1").select_option("ltv")
    page.get_by_label("Destination field 1").fill("lifetime_value")
    page.get_by_role("button", name="Check and save").click()
    page.get_by_role("button", name="Run now").click()
    running.execute(SyncRun.objects.filter(dry_run=False).get().pk)  # what the worker does
    expect(page.locator("[data-testid=run-progress]")).to_have_attribute(
        "data-run-status", "succeeded", timeout=10_000
    )
    screenshot("warehouse-loop-sync")

    # then: the webhook received the three customers from the warehouse
    assert sorted(r["fields"]["lifetime_value"] for r in sent_rows(vendor)) == [0, 80, 120.5]
    vendor.stop()

    # when: she adds the warehouse as a destination of the event stream, enabled
    page.goto(f"{base}/destinations/new/")
    page.locator("#id_name").fill("Lakehouse events")
    page.get_by_label("Vendor API").select_option("warehouse")
    page.get_by_label("Registry tool").select_option(label="Data loader")
    page.locator("#id_sends").select_option("both")
    page.locator("#id_cfg_warehouse__warehouse").select_option(
        label="Company lakehouse (DuckDB / MotherDuck)"
    )
    page.locator("#id_cfg_warehouse__schema").fill("web_events")
    page.locator("#id_is_enabled").check()
    page.get_by_role("button", name="Create destination").click()
    expect(page.locator("[data-loads]")).to_contain_text("No load yet")

    # and the website sends an order and a page view, which the pipeline processes
    for message in (
        {"type": "track", "event": "Order Completed", "anonymousId": "ajs-1", "messageId": "o-1",
         "properties": {"revenue": 42, "orderId": "A-1"}},
        {"type": "page", "name": "Pricing", "anonymousId": "ajs-1", "messageId": "p-1",
         "properties": {"path": "/pricing"}},
    ):  # fmt: skip
        kind = message["type"]
        answer = requests.post(f"{base}/v1/{kind}", json=message, auth=(key, ""), timeout=10)
        assert answer.status_code == 200
    process_waiting()
    destination = Destination.objects.get(name="Lakehouse events")
    page.get_by_role("button", name="Load now").click()
    expect(page.locator("body")).to_contain_text("Load started")
    loader.load(destination)  # what the worker does

    # then: the page shows the load and the rows per table, and the warehouse holds them
    page.reload()
    expect(page.locator("[data-load-status]")).to_have_text("Loaded")
    expect(page.locator("[data-load-warehouse]")).to_contain_text("Company lakehouse")
    expect(page.locator("[data-loads]")).to_contain_text("order_completed")
    expect(page.locator("[data-load-added]")).to_contain_text(
        "Tables created: tracks, order_completed, pages"
    )
    screenshot("warehouse-loop-loaded")
    with duckdb.connect(str(path), read_only=True) as connection:
        assert connection.execute(
            "SELECT id, revenue, order_id FROM web_events.order_completed"
        ).fetchall() == [("o-1", 42, "A-1")]
        assert connection.execute("SELECT id, path FROM web_events.pages").fetchall() == [
            ("p-1", "/pricing")
        ]
    assert page.console_errors == []
