"""The compatibility classifier: each rule, and that "addition" never rejects an old event."""

import copy

import jsonschema
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from apps.schemas.choices import ChangeKind
from apps.schemas.engine.compat import classify, diff, next_number

BASE = {
    "type": "object",
    "properties": {
        "total": {"type": "integer", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "note": {"type": "string", "maxLength": 10},
    },
    "required": ["total"],
}


def _changed(mutate) -> str:
    new = copy.deepcopy(BASE)
    mutate(new)
    return classify(diff(BASE, new))


def test_a_new_optional_property_is_an_addition():
    assert _changed(lambda s: s["properties"].update(coupon={"type": "string"})) == "addition"


def test_a_new_required_property_is_breaking():
    def mutate(s):
        s["properties"]["coupon"] = {"type": "string"}
        s["required"].append("coupon")

    assert _changed(mutate) == "breaking"


def test_a_removed_property_is_breaking():
    assert _changed(lambda s: s["properties"].pop("note")) == "breaking"


def test_a_type_change_is_breaking_but_integer_to_number_widens():
    assert _changed(lambda s: s["properties"]["total"].update(type="string")) == "breaking"
    assert _changed(lambda s: s["properties"]["total"].update(type="number")) == "addition"


def test_a_narrowed_enum_is_breaking_and_a_wider_one_an_addition():
    assert _changed(lambda s: s["properties"]["currency"].update(enum=["EUR"])) == "breaking"
    wider = ["EUR", "USD", "GBP"]
    assert _changed(lambda s: s["properties"]["currency"].update(enum=wider)) == "addition"


def test_a_tighter_limit_is_a_revision_and_a_looser_one_an_addition():
    assert _changed(lambda s: s["properties"]["note"].update(maxLength=5)) == "revision"
    assert _changed(lambda s: s["properties"]["note"].update(maxLength=50)) == "addition"
    assert _changed(lambda s: s["properties"]["total"].update(minimum=1)) == "revision"


def test_making_an_optional_property_required_is_breaking():
    assert _changed(lambda s: s["required"].append("note")) == "breaking"


def test_description_only_changes_are_not_contract_changes():
    assert _changed(lambda s: s["properties"]["note"].update(description="Gift note")) == "none"


def test_nested_objects_are_compared_property_by_property():
    old = {
        "type": "object",
        "properties": {"address": {"type": "object", "properties": {"city": {"type": "string"}}}},
    }
    new = copy.deepcopy(old)
    del new["properties"]["address"]["properties"]["city"]
    changes = diff(old, new)
    assert [(c.path, c.severity) for c in changes] == [("address.city", "breaking")]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (ChangeKind.BREAKING, (3, 0, 0)),
        (ChangeKind.REVISION, (2, 2, 0)),
        (ChangeKind.ADDITION, (2, 1, 4)),
        (ChangeKind.NONE, (2, 1, 4)),
    ],
)
def test_schemaver_numbers_follow_the_class_of_change(kind, expected):
    assert next_number((2, 1, 3), kind) == expected
    assert next_number(None, ChangeKind.INITIAL) == (1, 0, 0)


# --- Property: an addition (or no change) accepts every event the old version accepted ------

NAMES = ["a", "b", "c", "d"]
TYPES = ["string", "integer", "number", "boolean"]
VALUES = st.one_of(
    st.sampled_from(["x", "y", "z", ""]),
    st.integers(-3, 3),
    st.sampled_from([0.5, -1.5]),
    st.booleans(),
    st.none(),
)


@st.composite
def property_schemas(draw):
    node = {"type": draw(st.sampled_from(TYPES))}
    if node["type"] == "string" and draw(st.booleans()):
        node["enum"] = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, unique=True))
    if node["type"] in ("integer", "number") and draw(st.booleans()):
        node["minimum"] = draw(st.integers(-2, 2))
    if node["type"] == "string" and draw(st.booleans()):
        node["maxLength"] = draw(st.integers(0, 2))
    return node


@st.composite
def object_schemas(draw):
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=4))
    props = {name: draw(property_schemas()) for name in names}
    required = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    return {"type": "object", "properties": props, "required": required}


@settings(max_examples=300, deadline=None)
@given(
    old=object_schemas(),
    new=object_schemas(),
    event=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=4),
)
def test_an_addition_accepts_every_event_the_old_version_accepted(old, new, event):
    kind = classify(diff(old, new))
    # Old events carry the properties the old version described.
    event = {k: v for k, v in event.items() if k in old["properties"]}
    assume(jsonschema.Draft202012Validator(old).is_valid(event))
    if kind in (ChangeKind.NONE, ChangeKind.ADDITION):
        assert jsonschema.Draft202012Validator(new).is_valid(event), (old, new, kind)


@settings(max_examples=200, deadline=None)
@given(schema=object_schemas())
def test_a_version_compared_with_itself_has_no_changes(schema):
    assert diff(schema, copy.deepcopy(schema)) == []
