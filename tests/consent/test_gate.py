"""One privacy gate, ``apps.consent.gate``, that every path asks by an ordinary import: nothing
is plugged in at start-up, and its answers come from the erasure suppression list and the
consent ledger themselves."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from django.apps import apps as django_apps

from apps.consent import gate
from apps.consent.services import consent_record
from apps.erasure.models import Suppression
from apps.erasure.suppression import digest
from apps.identity.normalise import Ident

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ANA = Ident("email", "ana@acme.example")


def _suppress(kind: str, value: str) -> None:
    Suppression.objects.create(value_hash=digest(kind, value), type=kind)


def _ready_imports(path: Path) -> list[str]:
    """The modules an app's ``ready()`` imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef) and node.name == "ready":
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.level == 0:
                    found.append(inner.module or "")
                elif isinstance(inner, ast.Import):
                    found.extend(alias.name for alias in inner.names)
    return found


def test_no_app_hands_another_app_a_function_at_start_up():
    # given every app's start-up hook
    reaching_out = {}
    for config in (ROOT / "apps").glob("*/apps.py"):
        own = f"apps.{config.parent.name}"
        # when it imports from another app
        others = [
            m
            for m in _ready_imports(config)
            if m.startswith("apps.") and not (m == own or m.startswith(own + "."))
        ]
        if others:
            reaching_out[config.parent.name] = others
    # then none does: another app's code is asked by an import where it is needed
    assert reaching_out == {}


def _module_state(path: Path) -> list[str]:
    """Names bound at module level to a mutable container, and ``register_*`` functions."""
    found = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("register"):
            found.append(node.name)
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        mutable = isinstance(value, ast.List | ast.Dict | ast.Set) or (
            isinstance(value, ast.Call) and getattr(value.func, "id", "") in ("list", "dict", "set")
        )
        if mutable:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.extend(n for n in map(ast.unparse, targets) if not n.startswith("__"))
    return found


@pytest.mark.parametrize("module", ["apps/destinations/routing.py", "apps/consent/gate.py"])
def test_routing_and_the_gate_keep_no_registry(module):
    assert _module_state(ROOT / module) == []


def test_the_consent_app_names_no_other_apps_table_in_sql():
    # given the tables of every other app
    others = {
        model._meta.db_table
        for model in django_apps.get_models()
        if model._meta.app_label != "consent" and model.__module__.startswith("apps.")
    }
    # when the consent app's code is read
    named = set()
    for path in (ROOT / "apps" / "consent").rglob("*.py"):
        named |= {t for t in re.findall(r"\b[a-z]+_[a-z_]+\b", path.read_text()) if t in others}
    # then it reads them through their owners' selectors
    assert named == set()


def test_the_gate_finds_an_erased_person_by_any_identifier_and_an_address_held_in_an_id():
    assert gate.suppressed({str(ANA)}) == set()
    _suppress("email", "ana@acme.example")
    assert gate.anyone_suppressed() is True
    assert gate.suppressed({str(ANA), "user_id:cus_2", ""}) == {str(ANA)}
    with pytest.raises(gate.SubjectSuppressed):
        gate.refuse_suppressed([Ident("user_id", "Ana@Acme.example")])
    gate.refuse_suppressed([Ident("user_id", "cus_2")])  # someone else: no error


def test_may_process_refuses_an_erased_person_whatever_their_consent():
    # given a person who granted analytics
    consent_record(
        subject=ANA,
        purpose="analytics",
        granted=True,
        source="banner",
        jurisdiction="gdpr",
        occurred_at=dt.datetime.now(dt.UTC),
    )
    assert gate.may_process(ANA, ["necessary", "analytics"]) is True
    assert gate.may_process(ANA, ["advertising"]) is False  # not granted
    # when she is erased
    _suppress("email", "ana@acme.example")
    # then nothing about her may be processed, for any purpose
    assert gate.may_process(ANA, ["necessary"]) is False


def test_allows_needs_every_required_purpose_granted_and_nothing_missing_counts_as_granted():
    assert gate.allows(("analytics", "sale_share"), {"analytics": True, "sale_share": True})
    assert not gate.allows(("analytics", "sale_share"), {"analytics": True})
    assert not gate.allows(("analytics",), {"analytics": "yes"})
    assert not gate.allows(("analytics",), None)
    assert gate.allows((), None)
