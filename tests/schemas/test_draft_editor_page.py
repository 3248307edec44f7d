"""A draft is edited property by property; the raw JSON stays as an advanced view of the same
document, and nested constructs the rows cannot show are kept, never dropped."""

import copy
import json

from django.urls import reverse

from apps.schemas import services
from apps.schemas.engine import properties
from apps.schemas.engine.validate import compile_schema
from apps.schemas.models import SchemaVersion

from .conftest import ORDER, PURPOSES


def _edit_url(version):
    return reverse("schemas:version_edit", args=[version.schema_id, version.pk])


def _rows_as_posted(page) -> dict:
    """The property form as a browser submits it unchanged."""
    formset = page.context["formset"]
    data = {
        "p-TOTAL_FORMS": str(formset.total_form_count()),
        "p-INITIAL_FORMS": str(formset.initial_form_count()),
        "notes": page.context["notes_form"]["notes"].value() or "",
    }
    for form in formset.forms:
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, bool) or value is None:
                if value:
                    data[form[name].html_name] = "on"
            else:
                data[form[name].html_name] = value
    return data


def _row(data: dict, prop: str) -> str:
    """The prefix of the row that edits ``prop``."""
    for key, value in data.items():
        if key.endswith("-original") and value == prop:
            return key.removesuffix("original")
    raise KeyError(prop)


def _draft(admin, order):
    return services.draft_create(actor=admin, schema=order.schema)


def test_saving_the_rows_unchanged_writes_the_same_json_schema_and_details(
    admin, admin_client, order
):
    # given a draft whose properties use limits the rows cannot show (minLength, minimum)
    draft = _draft(admin, order)
    before = copy.deepcopy(draft.json_schema)
    page = admin_client.get(_edit_url(draft))

    # when the property form is posted as shown
    saved = admin_client.post(_edit_url(draft), _rows_as_posted(page))

    # then the JSON Schema and every property's details are as they were
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.json_schema == before
    details = {f.name: (f.purpose, f.data_category, f.personal) for f in draft.fields.all()}
    assert details == {
        name: (meta["purpose"], meta["data_category"], meta["data_category"] == "contact")
        for name, meta in PURPOSES.items()
    }


def test_editing_rows_writes_type_required_enum_format_and_details_into_the_schema(
    admin, admin_client, order
):
    draft = _draft(admin, order)
    data = _rows_as_posted(admin_client.get(_edit_url(draft)))
    currency, email = _row(data, "currency"), _row(data, "email")
    data[f"{currency}enum"] = "EUR, USD, GBP"
    data[f"{currency}required"] = "on"
    data[f"{email}name"] = "contact_email"
    data[f"{email}format"] = "email"
    data[f"{email}description"] = "Where the receipt goes."
    data[f"{email}owner"] = "CRM team"
    data[f"{email}purpose"] = "receipts"

    saved = admin_client.post(_edit_url(draft), data)

    assert saved.status_code == 302
    draft.refresh_from_db()
    schema = draft.json_schema
    assert schema["properties"]["currency"] == {"type": "string", "enum": ["EUR", "USD", "GBP"]}
    assert schema["properties"]["contact_email"] == {
        "type": "string",
        "format": "email",
        "description": "Where the receipt goes.",
    }
    assert "email" not in schema["properties"]
    assert schema["required"] == ["order_id", "total", "currency"]
    spec = draft.fields.get(name="contact_email")
    assert (spec.purpose, spec.owner, spec.data_category, spec.personal) == (
        "receipts",
        "CRM team",
        "contact",
        True,
    )
    # the engine validates what the rows wrote
    validator = compile_schema(schema)
    assert validator.is_valid({"order_id": "A", "total": 1, "currency": "GBP"})
    assert not validator.is_valid({"order_id": "A", "total": 1, "currency": "CHF"})


def test_a_property_is_added_with_the_add_button_without_saving_then_saved(
    admin, admin_client, order
):
    draft = _draft(admin, order)
    data = _rows_as_posted(admin_client.get(_edit_url(draft)))
    rows = int(data["p-TOTAL_FORMS"])

    added = admin_client.post(_edit_url(draft), {**data, "add_row": "1"})

    assert added.status_code == 200
    assert added.context["formset"].total_form_count() == rows + 1
    assert b"New property" in added.content
    assert SchemaVersion.objects.get(pk=draft.pk).json_schema == draft.json_schema
    data = _rows_as_posted(added)
    data.update(
        {
            f"p-{rows}-name": "coupon",
            f"p-{rows}-type": "string",
            f"p-{rows}-purpose": "promotion analytics",
        }
    )
    assert admin_client.post(_edit_url(draft), data).status_code == 302
    draft.refresh_from_db()
    assert draft.json_schema["properties"]["coupon"] == {"type": "string"}
    assert draft.fields.get(name="coupon").purpose == "promotion analytics"


def test_a_removed_row_leaves_the_schema_and_its_required_list(admin, admin_client, order):
    draft = _draft(admin, order)
    data = _rows_as_posted(admin_client.get(_edit_url(draft)))
    data[f"{_row(data, 'total')}DELETE"] = "on"

    assert admin_client.post(_edit_url(draft), data).status_code == 302

    draft.refresh_from_db()
    assert "total" not in draft.json_schema["properties"]
    assert draft.json_schema["required"] == ["order_id"]
    assert not draft.fields.filter(name="total").exists()


def test_every_row_error_is_shown_by_its_field_at_once_and_nothing_is_saved(
    admin, admin_client, order
):
    draft = _draft(admin, order)
    before = copy.deepcopy(draft.json_schema)
    data = _rows_as_posted(admin_client.get(_edit_url(draft)))
    currency, email = _row(data, "currency"), _row(data, "email")
    data[f"{email}name"] = "currency"  # a second property named currency
    data[f"{currency}type"] = "boolean"  # with its enum still there
    total = int(data["p-TOTAL_FORMS"])
    data["p-TOTAL_FORMS"] = str(total + 2)
    data.update(
        {
            f"p-{total}-name": "2nd item",
            f"p-{total}-type": "string",
            f"p-{total + 1}-name": "amount",
            f"p-{total + 1}-type": "number",
            f"p-{total + 1}-format": "email",
            f"p-{total + 1}-enum": "1, two",
        }
    )

    page = admin_client.post(_edit_url(draft), data)

    assert page.status_code == 400
    forms = page.context["formset"].forms
    errors = {f["original"].value() or f["name"].value(): dict(f.errors) for f in forms}
    assert "is also named 'currency'" in errors["email"]["name"][0]
    assert errors["currency"]["enum"] == [
        "A boolean is true or false: leave the allowed values empty."
    ]
    assert "'2nd item' is not a valid property name" in errors["2nd item"]["name"][0]
    assert errors["amount"]["format"] == ["A format applies to strings; this property is number."]
    assert errors["amount"]["enum"] == ["'two' is not a number."]
    assert b"5 problems to fix" in page.content
    assert SchemaVersion.objects.get(pk=draft.pk).json_schema == before


def test_a_nested_property_keeps_its_construct_and_says_to_edit_it_as_json(admin, admin_client):
    document = {
        "type": "object",
        "properties": {
            "products": {"type": "array", "items": {"type": "object", "required": ["sku"]}},
            "total": {"type": "number"},
        },
        "additionalProperties": False,
    }
    schema = services.schema_create(actor=admin, name="Cart Viewed", json_schema=document)
    draft = schema.versions.get()

    page = admin_client.get(_edit_url(draft))
    data = _rows_as_posted(page)
    products = _row(data, "products")
    data[f"{products}type"] = "string"  # ignored: the row is locked
    data[f"{products}description"] = "Line items."
    data[f"{products}purpose"] = "analytics"
    saved = admin_client.post(_edit_url(draft), data)

    text = page.content.decode()
    assert "Uses items: its type, allowed values and format are kept as written." in text
    assert "additionalProperties</code> at the top level: kept as written" in text
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.json_schema["properties"]["products"] == {
        "type": "array",
        "items": {"type": "object", "required": ["sku"]},
        "description": "Line items.",
    }
    assert draft.json_schema["additionalProperties"] is False


def test_the_advanced_json_round_trips_with_the_registry_annotations(admin, admin_client, order):
    draft = _draft(admin, order)
    page = admin_client.get(_edit_url(draft))
    text = page.context["form"]["json_schema"].value()
    document = json.loads(text)
    assert document["properties"]["email"]["x-purpose"] == "receipts"
    assert document["properties"]["email"]["x-personal"] is True

    # posting the JSON as shown changes nothing
    assert admin_client.post(_edit_url(draft), {"json_schema": text}).status_code == 302
    draft.refresh_from_db()
    assert draft.json_schema == services.check_json_schema(ORDER)
    assert "x-purpose" not in json.dumps(draft.json_schema)

    # an annotation edited in the JSON lands on the property
    document["properties"]["total"]["x-purpose"] = "finance reporting"
    document["properties"]["total"]["x-owner"] = "Finance"
    admin_client.post(_edit_url(draft), {"json_schema": json.dumps(document)})
    draft.refresh_from_db()
    spec = draft.fields.get(name="total")
    assert (spec.purpose, spec.owner) == ("finance reporting", "Finance")
    assert draft.json_schema == services.check_json_schema(ORDER)


def test_a_wrong_annotation_in_the_json_is_a_form_error(admin, admin_client, order):
    draft = _draft(admin, order)
    document = properties.annotate(draft.json_schema, draft.fields.all())
    document["properties"]["email"]["x-personal"] = "yes"

    page = admin_client.post(_edit_url(draft), {"json_schema": json.dumps(document)})

    assert page.status_code == 400
    assert b"email: x-personal must be true or false." in page.content
    assert page.context["json_open"] is True


def test_enum_values_are_typed_by_the_property_type():
    assert properties.parse_enum("1\n2\n3", "integer") == [1, 2, 3]
    assert properties.parse_enum("0.5, 2", "number") == [0.5, 2]
    assert properties.parse_enum("a, b\nc", "string") == ["a, b", "c"]
    assert properties.parse_enum("", "boolean") == []
