"""A schema owner adds a property to an event, documents why it is collected, sees the
change classified before publishing, and publishes the next addition."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.events import services as events
from apps.events.models import Event
from apps.schemas import services
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_property_is_documented_classified_and_published(live_server, page, screenshot):
    # given: Order Completed 1-0-0
    owner = AdminFactory(full_name="Dana Whitfield")
    doc = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}
    schema = services.schema_create(
        actor=owner,
        name="Order Completed",
        json_schema=doc,
        fields={"total": {"purpose": "revenue reporting"}},
    )
    services.version_publish(actor=owner, version=schema.versions.get())
    base = live_server.url

    # when: she starts a new version and adds an optional coupon, property by property
    _sign_in(page, base, owner)
    page.goto(f"{base}/schemas/{schema.pk}/")
    page.get_by_role("button", name="Start a new version").click()
    page.get_by_role("button", name="Add property").click()
    row = page.get_by_role("group", name="New property")
    row.get_by_label("Name").fill("coupon")
    row.get_by_label("Type").select_option("string")
    row.get_by_label("Description").fill("Code applied.")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    # then: publishing waits for the new property's purpose
    page.get_by_role("group", name="coupon").get_by_label("Purpose").fill("promotion analytics")
    page.get_by_role("button", name="Save and review").click()
    preview = page.get_by_test_id("preview")
    expect(preview.get_by_test_id("change-kind")).to_have_text("addition")
    expect(preview.get_by_test_id("next-number")).to_have_text("1-0-1")
    expect(preview).to_contain_text("New optional property.")
    screenshot("schema-publish-preview")
    page.get_by_role("button", name="Publish as 1-0-1").click()
    expect(page.get_by_text("Published Order Completed 1-0-1 (addition")).to_be_visible()
    expect(page.get_by_test_id("status")).to_contain_text("1-0-1 · Published")


def test_a_breaking_type_change_shows_which_sources_would_have_failed_before_publishing(
    live_server, page, screenshot
):
    # given: Order Completed 1-0-0 and a week of orders whose totals are decimals on the web
    owner = AdminFactory(full_name="Dana Whitfield")
    doc = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}
    schema = services.schema_create(
        actor=owner,
        name="Order Completed",
        json_schema=doc,
        fields={"total": {"purpose": "revenue reporting"}},
    )
    services.version_publish(actor=owner, version=schema.versions.get())
    web, _ = events.source_create(actor=owner, name="Web storefront")
    backend, _ = events.source_create(actor=owner, name="Orders service")
    now = timezone.now()
    Event.objects.bulk_create(
        Event(
            source=source,
            message_id=f"m-{i}",
            type="track",
            name="Order Completed",
            payload={"properties": {"total": total}},
            timestamp=now - dt.timedelta(days=i),
            received_at=now - dt.timedelta(days=i),
        )
        for i, (source, total) in enumerate([(web, 59.9), (web, 120.5), (web, 80), (backend, 5990)])
    )
    base = live_server.url

    # when: she makes the total a whole number (cents) in the row editor and publishes
    _sign_in(page, base, owner)
    page.goto(f"{base}/schemas/{schema.pk}/")
    page.get_by_role("button", name="Start a new version").click()
    page.get_by_role("group", name="total").get_by_label("Type").select_option("integer")
    page.get_by_role("button", name="Save and review").click()
    expect(page.get_by_test_id("change-kind")).to_have_text("breaking")
    page.get_by_role("button", name="Publish as 2-0-0").click()

    # then: the question says how many of the week's events would have failed, by source
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text(
        "2 of 4 Order Completed events in the last 7 days would have failed 2-0-0"
    )
    expect(dialog).to_contain_text("Web storefront: 2 of 3 would have failed.")
    expect(dialog).to_contain_text("Orders service: 0 of 1 would have failed.")
    screenshot("schema-breaking-publish-impact")
    dialog.get_by_role("button", name="Publish 2-0-0").click()
    expect(page.get_by_test_id("status")).to_contain_text("2-0-0 · Published")
    assert page.console_errors == []
