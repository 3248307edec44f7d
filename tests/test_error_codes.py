"""Each app's error codes are an enum beside its services (``apps/<app>/errors.py``): no
service, engine or API module of a converted app raises an error with a code written as a
bare string or compares a code with one, and every member of each enum is a distinct code."""

import ast
import importlib
from enum import StrEnum
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Every app: a new one starts with its codes in an enum, not free strings.
APPS = sorted(p.parent.name for p in (ROOT / "apps").glob("*/__init__.py"))
# Apps that raise coded errors of their own keep them in ``errors.py`` (audit raises none).
CODED = [app for app in APPS if (ROOT / "apps" / app / "errors.py").exists()]
# ``code=`` in these calls is a lookup of a model's ``code`` field, not an error's code.
_LOOKUPS = {"filter", "exclude", "get", "get_or_create", "update_or_create", "create", "update"}


def _strings(node: ast.expr) -> bool:
    """Whether ``node`` is, or may evaluate to, a string literal."""
    if isinstance(node, ast.IfExp):
        return _strings(node.body) or _strings(node.orelse)
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _bare_codes(app: str) -> list[str]:
    found = []
    for path in sorted((ROOT / "apps" / app).rglob("*.py")):
        if "migrations" in path.parts or path.name in ("forms.py", "errors.py"):
            continue  # form errors carry Django's own field codes
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                called = getattr(node.func, "attr", None)
                for keyword in node.keywords:
                    if keyword.arg == "code" and _strings(keyword.value) and called not in _LOOKUPS:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, ast.Compare):  # exc.code == "..."
                sides = [node.left, *node.comparators]
                if any(getattr(side, "attr", None) == "code" for side in sides) and any(
                    _strings(side) for side in sides
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, ast.ClassDef):  # an error class's default code
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and [getattr(t, "id", None) for t in statement.targets] == ["code"]
                        and _strings(statement.value)
                    ):
                        found.append(f"{path.relative_to(ROOT)}:{statement.lineno}")
    return found


@pytest.mark.parametrize("app", APPS)
def test_an_app_raises_no_error_with_a_bare_string_code(app):
    assert _bare_codes(app) == []


@pytest.mark.parametrize("app", CODED)
def test_an_apps_error_enum_names_each_code_once(app):
    module = importlib.import_module(f"apps.{app}.errors")
    enums = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, StrEnum) and v is not StrEnum
    ]
    assert enums, f"apps/{app}/errors.py declares no error code enum"
    for enum in enums:
        values = [member.value for member in enum]
        assert len(values) == len(set(values))
        assert all(value == value.lower() and " " not in value for value in values)
