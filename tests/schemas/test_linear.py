"""Untrusted input meets the registry in linear time: a schema's patterns run on an engine
without backtracking, a pattern only a backtracking engine could run is refused when it is
saved or imported, and JSON nested past the registry's depth is a 400, never a 500."""

import io
import json
import re
import zipfile

import jsonschema_rs
import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.schemas import services
from apps.schemas.engine.validate import (
    MAX_DEPTH,
    compile_schema,
    compiled_plan,
    gate,
    looks_like_phone,
    nested_deeper_than,
)
from apps.schemas.models import EventSchema, SchemaVersion
from martech.common.errors import ApplicationError

from .conftest import ORDER

LOOKAHEAD = "^(?=(a+)+$)a"
LOOKBEHIND = "(?<!x)a"
BACKREFERENCE = "^(a+)\\1$"
# What a sample is redacted for as a phone number: the reference the linear check must match.
PHONE_SHAPE = re.compile(r"\+?[\d\s().-]{7,}")


def _schema(pattern: str) -> dict:
    return {"type": "object", "properties": {"code": {"type": "string", "pattern": pattern}}}


def _nested_schema_text(levels: int) -> str:
    """A schema document whose property ``a`` nests ``levels`` objects deep, as JSON text
    (``json.dumps`` itself gives up long before 3,000 levels)."""
    inner = '{"type": "string"}'
    return '{"type": "object", "properties": {"a": ' * levels + inner + "}}" * levels


def _bundle(files: dict[str, str | bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    buffer.seek(0)
    buffer.name = "plan.zip"
    return buffer


def _plan_json(file: str = "events/a/1-0-0.json") -> str:
    return json.dumps({"name": "Imported", "events": [{"event": "Deep", "file": file}]})


def _import(admin_api, files):
    return admin_api.post(
        reverse("api:tracking-plan-import"), {"file": _bundle(files)}, format="multipart"
    )


# --- Patterns ------------------------------------------------------------------------------


def test_patterns_compile_on_the_engine_without_backtracking():
    # given a backreference, which only a backtracking engine can run
    # when / then the compiler refuses it, and nested quantifiers compile as usual
    with pytest.raises(jsonschema_rs.ValidationError):
        compile_schema(_schema(BACKREFERENCE))
    validator = compile_schema(_schema("^(a+)+$"))
    assert validator.is_valid({"code": "a" * 50_000}) is True
    assert validator.is_valid({"code": "a" * 50_000 + "!"}) is False


@pytest.mark.parametrize("pattern", [LOOKAHEAD, LOOKBEHIND, BACKREFERENCE])
def test_a_pattern_only_a_backtracking_engine_can_run_is_refused_at_save_with_400(
    admin_api, pattern
):
    # when
    response = admin_api.post(
        reverse("api:schema-list"),
        {"name": "Code Entered", "json_schema": _schema(pattern)},
        format="json",
    )

    # then
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "unsupported_pattern"
    assert "properties/code/pattern" in body["message"]
    assert "lookaround" in body["message"]
    assert not EventSchema.objects.exists()


def test_a_pattern_property_with_lookbehind_is_refused_when_a_draft_is_edited(admin, order):
    draft = services.draft_create(actor=admin, schema=order.schema)
    document = {**ORDER, "patternProperties": {"(?<=x)_code": {"type": "string"}}}

    with pytest.raises(ApplicationError) as caught:
        services.draft_update(actor=admin, version=draft, json_schema=document)

    assert caught.value.code == "unsupported_pattern"
    assert "patternProperties" in caught.value.message


def test_the_draft_page_shows_a_refused_pattern_as_a_form_error(admin_client, admin, order):
    draft = services.draft_create(actor=admin, schema=order.schema)
    url = reverse("schemas:version_edit", args=[order.schema_id, draft.pk])
    management = {"p-TOTAL_FORMS": "0", "p-INITIAL_FORMS": "0"}

    refused = admin_client.post(url, {"json_schema": json.dumps(_schema(LOOKAHEAD)), **management})
    too_deep = admin_client.post(url, {"json_schema": _nested_schema_text(3000), **management})

    assert refused.status_code == 400
    assert b"cannot be used" in refused.content
    assert too_deep.status_code == 400
    assert b"nests too deep" in too_deep.content
    draft.refresh_from_db()
    assert draft.json_schema["properties"].keys() == ORDER["properties"].keys()


def test_an_import_with_a_pattern_only_a_backtracking_engine_can_run_is_a_400(admin_api):
    response = _import(
        admin_api,
        {"plan.json": _plan_json(), "events/a/1-0-0.json": json.dumps(_schema(LOOKAHEAD))},
    )

    assert (response.status_code, response.json()["code"]) == (400, "unsupported_pattern")
    assert not EventSchema.objects.exists()


def test_a_version_stored_with_a_lookahead_pattern_is_reported_as_unchecked_not_run(
    admin_api, admin, order
):
    # given a published version stored before such patterns were refused
    stored = {**ORDER, "properties": {**ORDER["properties"], "order_id": {"pattern": LOOKAHEAD}}}
    SchemaVersion.objects.filter(pk=order.pk).update(json_schema=stored)
    plan = services.plan_create(actor=admin, name="Web", versions=[order])

    # when an event is checked against it, through the API and through the pipeline's gate
    response = admin_api.post(
        reverse("api:schema-validate"),
        {
            "event": "Order Completed",
            "properties": {"order_id": "a" * 5000, "total": 1},
            "plan": plan.pk,
            "mode": "flag",
        },
        format="json",
    )
    verdict = gate(compiled_plan(plan), "flag", "Order Completed", {"order_id": "a", "total": 1})

    # then the event is flagged with a finding that says why, and nothing crashed
    assert response.status_code == 200, response.content
    assert response.json()["action"] == "flag"
    [violation] = response.json()["violations"]
    assert "cannot be checked" in violation["message"]
    assert verdict.action == "flag"
    assert "cannot be checked" in verdict.findings[0].message


# --- Nesting -------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [100, 3000])
def test_an_import_whose_schema_nests_too_deep_is_a_400_invalid_bundle(admin_api, levels):
    response = _import(
        admin_api, {"plan.json": _plan_json(), "events/a/1-0-0.json": _nested_schema_text(levels)}
    )

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_bundle"
    assert "events/a/1-0-0.json" in response.json()["message"]
    assert not EventSchema.objects.exists()


def test_an_import_whose_plan_json_nests_100k_arrays_is_a_400_invalid_bundle(admin_api):
    response = _import(admin_api, {"plan.json": "[" * 100_000 + "]" * 100_000})

    assert (response.status_code, response.json()["code"]) == (400, "invalid_bundle")
    assert "plan.json" in response.json()["message"]


@pytest.mark.parametrize(
    "entry",
    [{"event": "A", "file": ["x"]}, {"event": "A", "file": "events/a.json"}],
    ids=["file-not-a-name", "file-not-an-object"],
)
def test_an_import_whose_plan_names_no_schema_object_is_a_400_invalid_bundle(admin_api, entry):
    files = {
        "plan.json": json.dumps({"name": "P", "events": [entry]}),
        "events/a.json": "[1, 2]",
    }

    response = _import(admin_api, files)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_bundle")


def test_a_schema_nested_deeper_than_the_registry_allows_is_refused_by_the_api(admin_api):
    url = reverse("api:schema-list")
    body = '{"name": "Deep", "json_schema": %s}'

    # 40 levels of objects is 81 of JSON: within what the compiler takes, past the registry
    deep = admin_api.post(url, body % _nested_schema_text(40), content_type="application/json")
    # 3,000 levels is past what the JSON parser takes
    deeper = admin_api.post(url, body % _nested_schema_text(3000), content_type="application/json")

    assert (deep.status_code, deep.json()["code"]) == (400, "invalid_schema")
    assert f"at most {MAX_DEPTH} levels" in deep.json()["message"]
    assert (deeper.status_code, deeper.json()["code"]) == (400, "parse_error")
    assert not EventSchema.objects.exists()


def test_validate_refuses_properties_nested_deeper_than_collection_allows(admin_api, order):
    properties = "x"
    for _ in range(MAX_DEPTH):
        properties = {"a": properties}

    response = admin_api.post(
        reverse("api:schema-validate"),
        {"event": "Order Completed", "properties": properties, "version": order.pk},
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (400, "too_deep")


def test_the_depth_check_counts_objects_and_arrays_without_recursion():
    value = []
    for _ in range(200_000):  # far past the interpreter's recursion limit
        value = [value]

    assert nested_deeper_than(value, MAX_DEPTH) is True
    assert nested_deeper_than([[{"a": [1]}]], 4) is False
    assert nested_deeper_than([[{"a": [1]}]], 3) is True


# --- Redaction -----------------------------------------------------------------------------


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="+0123456789٣ ().-\t\nax\u00a0", max_size=20))
def test_the_linear_phone_check_matches_exactly_what_the_phone_pattern_matches(value):
    assert looks_like_phone(value) == bool(PHONE_SHAPE.fullmatch(value.strip()))
