"""The registry's REST API: drafting, publishing, validating, plans as files, violations."""

import io
import json
import zipfile

import pytest
from django.urls import reverse

from apps.schemas import services
from apps.schemas.models import EventSchema, Violation

from .conftest import PURPOSES


def _versions_url(schema_pk, pk=None, action=None):
    if action:
        return reverse(f"api:schema-version-{action}", kwargs={"schema_pk": schema_pk, "pk": pk})
    if pk:
        return reverse("api:schema-version-detail", kwargs={"schema_pk": schema_pk, "pk": pk})
    return reverse("api:schema-version-list", kwargs={"schema_pk": schema_pk})


def test_an_event_is_created_drafted_documented_and_published(admin_api):
    created = admin_api.post(
        reverse("api:schema-list"),
        {
            "name": "Signed Up",
            "json_schema": {
                "type": "object",
                "properties": {"method": {"type": "string", "enum": ["email", "google"]}},
            },
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    schema = created.json()
    refused = admin_api.post(_versions_url(schema["id"], schema["draft"], "publish"))
    assert refused.status_code == 400
    assert refused.json()["code"] == "purpose_missing"
    patched = admin_api.patch(
        _versions_url(schema["id"], schema["draft"]),
        {"fields": {"method": {"purpose": "analytics"}}},
        format="json",
    )
    assert patched.status_code == 200
    assert patched.json()["fields"][0]["purpose"] == "analytics"
    published = admin_api.post(_versions_url(schema["id"], schema["draft"], "publish"))
    assert published.status_code == 200
    assert (published.json()["number"], published.json()["status"]) == ("1-0-0", "published")
    again = admin_api.patch(
        _versions_url(schema["id"], schema["draft"]), {"notes": "x"}, format="json"
    )
    assert (again.status_code, again.json()["code"]) == (409, "not_a_draft")


def test_the_preview_shows_the_diff_before_a_breaking_publish(admin_api, order):
    schema_pk = order.schema_id
    draft = admin_api.post(_versions_url(schema_pk)).json()
    doc = dict(draft["json_schema"])
    doc["properties"] = {k: v for k, v in doc["properties"].items() if k != "currency"}
    admin_api.patch(_versions_url(schema_pk, draft["id"]), {"json_schema": doc}, format="json")
    preview = admin_api.get(_versions_url(schema_pk, draft["id"], "preview")).json()
    assert preview["kind"] == "breaking"
    assert preview["number"] == "2-0-0"
    assert preview["changes"] == [
        {"path": "currency", "severity": "breaking", "detail": "Property removed."}
    ]


def test_an_invalid_json_schema_is_a_400_with_a_code(admin_api, order):
    draft = admin_api.post(_versions_url(order.schema_id)).json()
    response = admin_api.patch(
        _versions_url(order.schema_id, draft["id"]),
        {"json_schema": {"type": "object", "properties": {"a": {"minimum": "x"}}}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_schema"


def test_validate_returns_the_violations_of_a_sample_event(admin_api, admin, order):
    plan = services.plan_create(actor=admin, name="Web", versions=[order])
    response = admin_api.post(
        reverse("api:schema-validate"),
        {
            "event": "Order Completed",
            "properties": {"order_id": "A1", "total": "9"},
            "plan": plan.pk,
            "mode": "block",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["valid"], body["action"], body["version"]) == (False, "quarantine", "1-0-0")
    assert [(v["kind"], v["path"]) for v in body["violations"]] == [("wrong_type", "total")]
    assert Violation.objects.count() == 0  # a dry run stores nothing
    by_version = admin_api.post(
        reverse("api:schema-validate"),
        {
            "event": "Order Completed",
            "properties": {"order_id": "A1", "total": 2},
            "version": order.pk,
        },
        format="json",
    )
    assert by_version.json()["valid"] is True


def test_a_plan_exports_as_json_schema_files_and_imports_back(admin_api, admin, order):
    plan = services.plan_create(actor=admin, name="Web", versions=[order])
    export = admin_api.get(reverse("api:tracking-plan-export", kwargs={"pk": plan.pk}))
    assert export.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    manifest = json.loads(archive.read("plan.json"))
    assert manifest["events"] == [
        {
            "event": "Order Completed",
            "version": "1-0-0",
            "file": "events/order_completed/1-0-0.json",
        }
    ]
    document = json.loads(archive.read("events/order_completed/1-0-0.json"))
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["properties"]["total"]["x-purpose"] == "revenue reporting"

    # Edit the files as a team would in git: a new optional property, documented.
    document["properties"]["coupon"] = {"type": "string", "x-purpose": "promotion analytics"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as edited:
        edited.writestr("plan.json", json.dumps(manifest))
        edited.writestr("events/order_completed/1-0-0.json", json.dumps(document))
    buffer.seek(0)
    buffer.name = "plan.zip"
    response = admin_api.post(
        reverse("api:tracking-plan-import"), {"file": buffer}, format="multipart"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [v["number"] for v in body["plan"]["versions"]] == ["1-0-1"]
    assert "1-0-1: published" in body["report"][0]
    latest = EventSchema.objects.get().versions.get(addition=1)
    assert {f.name: f.purpose for f in latest.fields.all()}["coupon"] == "promotion analytics"
    assert {f.name: f.purpose for f in latest.fields.all()}["total"] == PURPOSES["total"]["purpose"]


def test_a_broken_archive_is_a_400_not_a_500(admin_api):
    upload = io.BytesIO(b"not a zip")
    upload.name = "plan.zip"
    response = admin_api.post(
        reverse("api:tracking-plan-import"), {"file": upload}, format="multipart"
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_bundle")


def test_violations_are_listed_with_filters(admin_api, admin, order):
    from apps.schemas.engine.validate import check, compiled_plan

    plan = services.plan_create(actor=admin, name="Web", versions=[order])
    for event, props in (("Order Completed", {"order_id": "A"}), ("Cart Abandoned", {})):
        services.findings_record(
            source="web",
            event_name=event,
            plan=plan,
            properties=props,
            findings=check(compiled_plan(plan), event, props),
        )
    listed = admin_api.get(reverse("api:violation-list"), {"kind": "unplanned_event"}).json()
    assert [v["event_name"] for v in listed["results"]] == ["Cart Abandoned"]
    bad = admin_api.get(reverse("api:violation-list"), {"kind": "nonsense"})
    assert bad.status_code == 400


@pytest.mark.parametrize("method", ["get", "post"])
def test_someone_without_schemas_view_gets_404_for_a_schema(api, order, method):
    url = _versions_url(order.schema_id)
    assert getattr(api, method)(url).status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/violations/", "/api/v1/events/"])
def test_a_far_offset_in_a_time_filter_is_not_a_500(admin_api, url):
    key = "since" if "violations" in url else "received_after"
    response = admin_api.get(url, {key: "2895-06-29T15:13:43+19:04"})
    assert response.status_code in (200, 400)
    assert admin_api.get(url, {key: "not a time"}).status_code == 400


def test_schema_lists_take_the_same_queries_for_one_row_or_many(admin_api, admin_client, admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(call):
        with CaptureQueriesContext(connection) as queries:
            assert call().status_code == 200
        return len(queries)

    services.schema_create(actor=admin, name="Event 0")
    admin_api.get(reverse("api:schema-list"))  # the token's first use is recorded once
    # and the session's second-factor check runs once a minute, not on every page
    admin_client.get(reverse("schemas:schema_list"))
    one = (
        count(lambda: admin_api.get(reverse("api:schema-list"))),
        count(lambda: admin_client.get(reverse("schemas:schema_list"))),
    )
    for n in range(1, 8):
        services.schema_create(actor=admin, name=f"Event {n}")
    many = (
        count(lambda: admin_api.get(reverse("api:schema-list"))),
        count(lambda: admin_client.get(reverse("schemas:schema_list"))),
    )
    assert many == one
    listed = admin_api.get(reverse("api:schema-list")).json()["results"]
    assert all(row["draft"] and row["latest"] is None for row in listed)
