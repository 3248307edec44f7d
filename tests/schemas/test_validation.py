"""Validation against a plan: each kind of violation, redaction, and each enforcement mode."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.schemas import services
from apps.schemas.choices import Enforcement
from apps.schemas.engine.validate import REDACTED, check, compiled_plan, gate, holds_email

# What a sample is redacted for, as a pattern: the reference the linear check must agree with.
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@pytest.fixture
def plan(admin, order):
    return compiled_plan(services.plan_create(actor=admin, name="Web", versions=[order]))


def _kinds(findings):
    return sorted((f.kind, f.path) for f in findings)


def test_a_valid_event_has_no_violations(plan):
    assert check(plan, "Order Completed", {"order_id": "A1", "total": 9.5}) == []


def test_an_unplanned_event(plan):
    assert _kinds(check(plan, "Cart Abandoned", {})) == [("unplanned_event", "")]


def test_a_missing_required_property(plan):
    assert _kinds(check(plan, "Order Completed", {"order_id": "A1"})) == [
        ("missing_required", "total")
    ]


def test_a_wrong_type_keeps_a_sample_of_the_value(plan):
    [finding] = check(plan, "Order Completed", {"order_id": "A1", "total": "9.50"})
    assert (finding.kind, finding.path, finding.sample) == ("wrong_type", "total", "9.50")


def test_an_unexpected_property_keeps_only_its_type(plan):
    [finding] = check(plan, "Order Completed", {"order_id": "A1", "total": 1, "phone": "+1 415"})
    assert (finding.kind, finding.path) == ("unexpected_property", "phone")
    assert finding.sample == {"type": "string"}


def test_values_out_of_range_or_enum(plan):
    findings = check(plan, "Order Completed", {"order_id": "", "total": -1, "currency": "CHF"})
    assert _kinds(findings) == [
        ("out_of_range", "currency"),
        ("out_of_range", "order_id"),
        ("out_of_range", "total"),
    ]


def test_personal_data_is_redacted_in_samples_and_messages(plan):
    [finding] = check(plan, "Order Completed", {"order_id": "A1", "total": 1, "email": 42})
    assert finding.kind == "wrong_type"
    assert finding.sample == REDACTED
    assert "42" not in finding.message
    # An address sent in a field not marked personal is redacted too.
    [finding] = check(plan, "Order Completed", {"order_id": 7, "total": 1})
    assert finding.sample == 7
    [finding] = check(plan, "Order Completed", {"order_id": "A1", "total": 1, "currency": "a@b.co"})
    assert finding.sample == REDACTED
    assert "a@b.co" not in finding.message


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="ab.@ \t\n\u00a0\u2003\x1c", max_size=40))
def test_the_linear_email_check_finds_exactly_what_the_email_pattern_finds(value):
    assert holds_email(value) == bool(EMAIL_SHAPE.search(value))


def test_a_long_value_without_an_address_is_cut_and_one_with_an_address_is_redacted(plan):
    # given a 30,000-character value (quadratic for a pattern search) in a wrong-type property
    [plain] = check(plan, "Order Completed", {"order_id": "A1", "total": "b" * 30_000})
    [hidden] = check(plan, "Order Completed", {"order_id": "A1", "total": "b" * 30_000 + " a@b.co"})
    # then the first keeps a short sample and the second is redacted
    assert plain.sample == "b" * 80
    assert hidden.sample == REDACTED


@pytest.mark.parametrize(
    ("mode", "action"),
    [(Enforcement.ALLOW, "deliver"), (Enforcement.FLAG, "flag"), (Enforcement.BLOCK, "quarantine")],
)
def test_each_enforcement_mode_decides_what_happens_to_a_bad_event(plan, mode, action):
    bad = gate(plan, mode, "Order Completed", {"order_id": "A1"})
    assert bad.action == action
    assert [f.kind for f in bad.findings] == ["missing_required"]
    good = gate(plan, mode, "Order Completed", {"order_id": "A1", "total": 3})
    assert (good.action, good.findings) == ("deliver", ())


def test_block_mode_quarantines_unplanned_events(plan):
    assert gate(plan, Enforcement.BLOCK, "Wishlist Added", {}).action == "quarantine"
