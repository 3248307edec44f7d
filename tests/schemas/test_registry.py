"""Drafts, publishing rules, plans and the drift workflow, through the services."""

import copy

import jsonschema_rs
import pytest

from apps.audit.models import AuditEvent
from apps.schemas import selectors, services
from apps.schemas.choices import Enforcement, VersionStatus
from apps.schemas.engine.validate import compile_schema, compiled_plan, gate
from apps.schemas.models import Observation, Violation
from martech.common.errors import ApplicationError, ConflictError, PermissionDeniedError

from .conftest import ORDER


def _draft_with(actor, version, mutate, fields=None):
    draft = services.draft_create(actor=actor, schema=version.schema)
    doc = copy.deepcopy(draft.json_schema)
    mutate(doc)
    return services.draft_update(actor=actor, version=draft, json_schema=doc, fields=fields)


def test_a_version_cannot_be_published_while_a_property_lacks_a_purpose(admin):
    schema = services.schema_create(actor=admin, name="Signed Up", json_schema=ORDER)
    with pytest.raises(ApplicationError) as caught:
        services.version_publish(actor=admin, version=schema.versions.get())
    assert caught.value.code == "purpose_missing"
    assert caught.value.details["properties"] == ["currency", "email", "order_id", "total"]
    assert schema.versions.get().status == VersionStatus.DRAFT


def test_the_first_publish_is_1_0_0_and_is_audited(order):
    assert order.number == "1-0-0"
    assert order.change_kind == "initial"
    assert AuditEvent.objects.filter(action="schemas.version.published").count() == 1


def test_an_optional_property_publishes_as_the_next_addition(editor, order):
    draft = _draft_with(
        editor,
        order,
        lambda d: d["properties"].update(coupon={"type": "string"}),
        {"coupon": {"purpose": "promotion analytics"}},
    )
    version = services.version_publish(actor=editor, version=draft)
    assert (version.number, version.change_kind) == ("1-0-1", "addition")
    assert version.changes == [
        {"path": "coupon", "severity": "addition", "detail": "New optional property."}
    ]


def test_a_tighter_limit_publishes_as_a_revision(editor, order):
    draft = _draft_with(editor, order, lambda d: d["properties"]["total"].update(minimum=1))
    assert services.version_publish(actor=editor, version=draft).number == "1-1-0"


def test_a_breaking_change_needs_the_publish_capability_and_a_new_model(editor, admin, order):
    draft = _draft_with(editor, order, lambda d: d["properties"].pop("currency"))
    preview = services.publish_preview(draft)
    assert (preview["kind"], preview["number"]) == ("breaking", "2-0-0")
    with pytest.raises(PermissionDeniedError) as caught:
        services.version_publish(actor=editor, version=draft)
    assert caught.value.code == "breaking_needs_publish"
    assert services.version_publish(actor=admin, version=draft).number == "2-0-0"


def test_published_versions_never_change_and_one_draft_at_a_time(editor, order):
    with pytest.raises(ConflictError) as caught:
        services.draft_update(actor=editor, version=order, notes="sneaky")
    assert caught.value.code == "not_a_draft"
    services.draft_create(actor=editor, schema=order.schema)
    with pytest.raises(ConflictError):
        services.draft_create(actor=editor, schema=order.schema)


def test_a_draft_keeps_the_purposes_of_the_version_it_started_from(editor, order):
    draft = services.draft_create(actor=editor, schema=order.schema)
    assert services.missing_purposes(draft) == []
    assert {f.name: f.purpose for f in draft.fields.all()}["total"] == "revenue reporting"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "must be a JSON object"),
        ({"type": "array"}, '"type" must be "object"'),
        ({"type": "object", "properties": {"a": {"type": "strng"}}}, "Not a valid JSON Schema"),
        ({"type": "object", "required": ["x"]}, "'x' is required but not described"),
        ({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}, "2020-12"),
    ],
)
def test_an_invalid_schema_is_refused_with_a_reason(admin, document, message):
    with pytest.raises(ApplicationError) as caught:
        services.schema_create(actor=admin, name="Broken", json_schema=document)
    assert message in caught.value.message


def test_contact_identifier_and_sensitive_properties_are_always_personal_data(admin, order):
    assert {f.name for f in order.fields.all() if f.personal} == {"email"}


def test_deprecating_needs_the_publish_capability(editor, admin, order):
    with pytest.raises(PermissionDeniedError):
        services.version_deprecate(actor=editor, version=order)
    assert services.version_deprecate(actor=admin, version=order).status == "deprecated"


def test_a_plan_holds_one_published_version_per_event(editor, order):
    draft = _draft_with(
        editor,
        order,
        lambda d: d["properties"].update(x={"type": "string"}),
        {"x": {"purpose": "analytics"}},
    )
    with pytest.raises(ApplicationError) as caught:
        services.plan_create(actor=editor, name="Web", versions=[order, draft])
    assert caught.value.code == "draft_in_plan"
    newer = services.version_publish(actor=editor, version=draft)
    with pytest.raises(ApplicationError) as caught:
        services.plan_create(actor=editor, name="Web", versions=[order, newer])
    assert caught.value.code == "two_versions"


def test_changing_a_plan_recompiles_it(editor, order):
    plan = services.plan_create(actor=editor, name="Web", versions=[])
    first = compiled_plan(plan)
    assert compiled_plan(plan) is first
    assert "Order Completed" not in first.events
    plan = services.plan_update(actor=editor, plan=plan, versions=[order])
    assert "Order Completed" in compiled_plan(plan).events


def test_unplanned_events_and_properties_are_counted_and_become_drafts(editor, order):
    plan = services.plan_create(actor=editor, name="Web", versions=[order])
    compiled = compiled_plan(plan)
    for props in ({"cart_id": "c1", "items": 2}, {"cart_id": "c2", "items": 3.5}):
        verdict = gate(compiled, Enforcement.ALLOW, "Cart Abandoned", props)
        services.findings_record(
            source="web",
            event_name="Cart Abandoned",
            findings=verdict.findings,
            properties=props,
            plan=plan,
        )
    sent = {"order_id": "A1", "total": 5, "gift_wrap": True}
    verdict = gate(compiled, Enforcement.ALLOW, "Order Completed", sent)
    services.findings_record(
        source="web",
        event_name="Order Completed",
        findings=verdict.findings,
        properties=sent,
        plan=plan,
    )
    assert Violation.objects.count() == 3
    event = Observation.objects.get(event_name="Cart Abandoned")
    assert event.count == 2
    assert event.example_properties["items"] == {"integer": 1, "number": 1}

    draft = services.draft_from_observation(actor=editor, observation=event)
    assert draft.schema.name == "Cart Abandoned"
    assert set(draft.json_schema["properties"]) == {"cart_id", "items"}
    assert draft.json_schema["properties"]["items"]["type"] in (
        ["integer", "number"],
        ["number", "integer"],
    )
    assert services.missing_purposes(draft) == ["cart_id", "items"]

    prop = Observation.objects.get(property="gift_wrap")
    assert prop.types == {"boolean": 1}
    draft = services.draft_from_observation(actor=editor, observation=prop)
    assert draft.schema_id == order.schema_id
    assert draft.json_schema["properties"]["gift_wrap"]["type"] == "boolean"
    assert "gift_wrap" not in draft.json_schema["required"]
    assert services.publish_preview(draft)["kind"] == "addition"


def test_a_viewer_cannot_edit(user, admin, order):
    with pytest.raises(PermissionDeniedError):
        services.draft_create(actor=user, schema=order.schema)
    assert selectors.schema_list(user=user).count() == 0


@pytest.mark.parametrize("target", ["http", "file"])
def test_a_schema_whose_ref_leaves_the_schema_is_refused_and_nothing_is_fetched(
    admin, tmp_path, target
):
    # given: a loopback server counting requests, and a JSON file on the server's disk
    import http.server
    import threading

    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = b'{"type": "integer"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = tmp_path / "secret.json"
    local.write_text('{"type": "integer"}')
    ref = {
        "http": f"http://127.0.0.1:{server.server_port}/meta-data.json",
        "file": local.as_uri(),
    }[target]
    document = {"type": "object", "properties": {"a": {"$ref": ref}}}

    # when
    try:
        with pytest.raises(ApplicationError) as caught:
            services.schema_create(actor=admin, name="Reference", json_schema=document)
        # and a schema stored before this check is not fetched when it is compiled either
        with pytest.raises(jsonschema_rs.ValidationError):
            compile_schema(document)
    finally:
        server.shutdown()
        server.server_close()

    # then
    assert caught.value.code == "invalid_schema"
    assert "$ref" in caught.value.message
    assert hits == []
