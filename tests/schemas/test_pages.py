"""The registry's pages with the demo data: lists, the publish preview, drift, and forms."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.accounts.models import User
from apps.schemas.models import EventSchema, Observation, SchemaVersion, TrackingPlan, Violation


@pytest.fixture
def demo_client(db, client):
    call_command("load_demo")
    client.force_login(User.objects.get(email="ops.admin@acme.example"))
    return client


def test_the_demo_registry_has_versions_a_waiting_draft_plans_and_drift(demo_client):
    assert EventSchema.objects.count() == 4
    order = EventSchema.objects.get(name="Order Completed")
    assert sorted(v.number for v in order.versions.all()) == ["1-0-0", "1-0-1", "draft"]
    assert TrackingPlan.objects.count() == 2
    assert Violation.objects.filter(kind="unplanned_event").exists()
    assert Observation.objects.filter(event_name="Cart Abandoned", property="").get().count == 2

    listing = demo_client.get(reverse("schemas:schema_list"), {"q": "coupon"})
    assert listing.status_code == 200
    assert b"Order Completed" in listing.content
    assert b"Signed Up" not in listing.content


def test_the_draft_page_shows_the_breaking_diff_before_publishing(demo_client):
    draft = SchemaVersion.objects.get(status="draft")
    page = demo_client.get(reverse("schemas:version_detail", args=[draft.schema_id, draft.pk]))
    assert page.status_code == 200
    assert page.context["preview"]["kind"] == "breaking"
    assert page.context["preview"]["number"] == "2-0-0"
    assert b"Type changed from number to integer." in page.content


def test_the_violations_page_charts_kinds_and_lists_unplanned_traffic(demo_client):
    page = demo_client.get(reverse("schemas:violations"))
    assert page.status_code == 200
    kinds = {s["label"] for s in page.context["chart"]["series"]}
    assert {"Unplanned event", "Wrong type", "Unexpected property"} <= kinds
    assert b"Cart Abandoned" in page.content
    assert b"mia.k@example.com" not in page.content  # samples never show personal data


def test_an_unplanned_event_becomes_a_draft_in_one_click(demo_client):
    observation = Observation.objects.get(event_name="Cart Abandoned", property="")
    response = demo_client.post(reverse("schemas:observation_draft", args=[observation.pk]))
    schema = EventSchema.objects.get(name="Cart Abandoned")
    draft = schema.versions.get()
    assert response.status_code == 302
    assert response.url == reverse("schemas:version_edit", args=[schema.pk, draft.pk])
    assert set(draft.json_schema["properties"]) == {"cart_id", "items", "value"}


def test_the_draft_editor_saves_purposes_and_reports_bad_json(demo_client):
    draft = SchemaVersion.objects.get(status="draft")
    url = reverse("schemas:version_edit", args=[draft.schema_id, draft.pk])
    bad = demo_client.post(url, {"json_schema": "{not json"})
    assert bad.status_code == 400
    assert b"Not valid JSON" in bad.content
    formset = demo_client.get(url).context["formset"]
    data = {
        "p-TOTAL_FORMS": str(len(formset.forms)),
        "p-INITIAL_FORMS": str(len(formset.forms)),
    }
    for sub in formset.forms:
        for key, value in sub.initial.items():
            if isinstance(value, bool):
                if value:
                    data[sub[key].html_name] = "on"
            else:
                data[sub[key].html_name] = value
        if sub.initial["name"] == "coupon":
            data[sub["purpose"].html_name] = "promotion effectiveness"
    saved = demo_client.post(url, data)
    assert saved.status_code == 302
    assert draft.fields.get(name="coupon").purpose == "promotion effectiveness"


def test_the_demo_draft_asks_before_publishing_with_the_mornings_orders_that_would_fail(
    demo_client,
):
    draft = SchemaVersion.objects.get(status="draft")

    page = demo_client.post(reverse("schemas:version_publish", args=[draft.schema_id, draft.pk]))

    text = page.content.decode()
    assert "1 of 3 Order Completed events in the last 7 days would have failed 2-0-0" in text
    assert "Web storefront (production): 1 of 2 would have failed." in text
    assert "Orders service: 0 of 1 would have failed." in text
    assert SchemaVersion.objects.get(pk=draft.pk).status == "draft"
