"""A schema owner adds a property to an event, documents why it is collected, sees the
change classified before publishing, and publishes the next addition."""

import json

import pytest
from playwright.sync_api import expect

from apps.schemas import services
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_property_is_documented_classified_and_published(live_server, page, screenshot):
    # given: Order Completed 1-0-0
    owner = AdminFactory(full_name="Dana Whitfield")
    doc = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}
    schema = services.schema_create(actor=owner, name="Order Completed", json_schema=doc,
                                    fields={"total": {"purpose": "revenue reporting"}})  # fmt: skip
    services.version_publish(actor=owner, version=schema.versions.get())
    base = live_server.url

    # when: she starts a new version and adds an optional coupon
    _sign_in(page, base, owner)
    page.goto(f"{base}/schemas/{schema.pk}/")
    page.get_by_role("button", name="Start a new version").click()
    doc["properties"]["coupon"] = {"type": "string", "description": "Code applied."}
    page.get_by_label("JSON Schema of the properties").fill(json.dumps(doc, indent=2))
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    # then: publishing waits for the new property's purpose
    page.get_by_label("Purpose of coupon").fill("promotion analytics")
    page.get_by_role("button", name="Save and review").click()
    preview = page.get_by_test_id("preview")
    expect(preview.get_by_test_id("change-kind")).to_have_text("addition")
    expect(preview.get_by_test_id("next-number")).to_have_text("1-0-1")
    expect(preview).to_contain_text("New optional property.")
    screenshot("schema-publish-preview")
    page.get_by_role("button", name="Publish as 1-0-1").click()
    expect(page.get_by_text("Published Order Completed 1-0-1 (addition")).to_be_visible()
    expect(page.get_by_test_id("status")).to_contain_text("1-0-1 · Published")
