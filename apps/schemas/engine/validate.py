"""Validate events against a tracking plan with compiled validators, cached per plan revision.

A plan is compiled once (one ``jsonschema_rs`` validator per event, draft 2020-12) and kept
in the process until the plan's revision changes. Checking an event is a dictionary lookup,
a set difference for unplanned properties and one call into the compiled validator; the
errors are only walked when the event is invalid.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import jsonschema_rs

from ..choices import Enforcement, ViolationKind

REDACTED = "[redacted]"
_SAMPLE_CHARS = 80
_RANGE_KINDS = frozenset(
    {
        "Enum",
        "Constant",
        "Minimum",
        "Maximum",
        "ExclusiveMinimum",
        "ExclusiveMaximum",
        "MinLength",
        "MaxLength",
        "Pattern",
        "Format",
        "MultipleOf",
        "MinItems",
        "MaxItems",
        "UniqueItems",
        "MinProperties",
        "MaxProperties",
    }
)


@dataclass(frozen=True)
class CompiledEvent:
    version_id: int
    number: str
    validator: jsonschema_rs.Validator | None
    declared: frozenset[str]
    personal: frozenset[str]
    problem: str = ""


@dataclass(frozen=True)
class CompiledPlan:
    plan_id: int | None
    revision: int
    events: Mapping[str, CompiledEvent]


@dataclass(frozen=True)
class Finding:
    kind: str
    path: str
    message: str
    sample: object = None
    version_id: int | None = None


@dataclass(frozen=True)
class Verdict:
    """What the gate decided: ``deliver``, ``flag`` (deliver, marked) or ``quarantine``."""

    action: str
    findings: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        return not self.findings


# How deep a schema document, a bundle's file or a sample's properties may nest (objects and
# arrays), as collection allows for a message. Deeper JSON is refused before it is copied,
# compiled or validated: those walks recurse, and the compiler stops at about 127 levels of
# subschemas.
MAX_DEPTH = 64


def nested_deeper_than(value, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests more than ``limit`` objects or arrays. Walks level by level
    without recursion and stops at ``limit + 1`` levels, so any depth is answered in time
    linear in the size of ``value``."""
    level = [value]
    for _ in range(limit + 1):
        level = [
            item
            for node in level
            if isinstance(node, dict | list)
            for item in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    return True


# The engine that runs a schema's "pattern" and "patternProperties" against event values:
# the finite-automaton engine, whose time is linear in the value's length whatever the
# pattern. It has no lookaround and no backreferences, so a pattern that needs them does not
# compile, and the schema is refused when it is saved (``services.check_json_schema``). A
# compiled pattern is at most 1 MiB.
PATTERN_SIZE_LIMIT = 1 << 20


def _pattern_options() -> jsonschema_rs.RegexOptions:
    return jsonschema_rs.RegexOptions(size_limit=PATTERN_SIZE_LIMIT)


def compile_schema(json_schema: dict) -> jsonschema_rs.Validator:
    """The compiled validator of ``json_schema``; raises ``jsonschema_rs.ValidationError``
    when a pattern does not compile with the linear engine."""
    # offline: a "$ref" to http(s) or file:// is never fetched (that would reach past the
    # egress policy and read the server's files); only the schema's own definitions and the
    # bundled meta-schemas resolve.
    return jsonschema_rs.Draft202012Validator(
        json_schema, offline=True, pattern_options=_pattern_options()
    )


def compile_event(version_id: int, number: str, json_schema: dict, personal: Iterable[str]):
    """The compiled form of one schema version. A version stored before its pattern was
    refused (one that needs lookaround or backreferences) compiles to no validator: each
    event checked against it gets a finding that says so, never a crash."""
    try:
        validator, problem = compile_schema(json_schema), ""
    except Exception as exc:
        validator = None
        problem = f"{number} cannot be checked: {str(exc).split(chr(10), 1)[0][:300]}"
    return CompiledEvent(
        version_id=version_id,
        number=number,
        validator=validator,
        declared=frozenset((json_schema.get("properties") or {}).keys()),
        personal=frozenset(personal),
        problem=problem,
    )


_cache: dict[int, CompiledPlan] = {}
_lock = threading.Lock()


def compiled_plan(plan) -> CompiledPlan:
    """The compiled form of ``plan``; compiled at most once per plan revision per process."""
    hit = _cache.get(plan.pk)
    if hit is not None and hit.revision == plan.revision:
        return hit
    with _lock:
        hit = _cache.get(plan.pk)
        if hit is not None and hit.revision == plan.revision:
            return hit
        from ..selectors import plan_contents

        events = {
            version.schema.name: compile_event(
                version.pk,
                version.number,
                version.json_schema,
                (f.name for f in version.fields.all() if f.personal),
            )
            for version in plan_contents(plan)
        }
        compiled = CompiledPlan(plan.pk, plan.revision, events)
        _cache[plan.pk] = compiled
        return compiled


def forget(plan_id: int | None = None) -> None:
    """Drop the compiled form of one plan, or of every plan (``None``)."""
    if plan_id is None:
        _cache.clear()
    else:
        _cache.pop(plan_id, None)


def holds_email(value: str) -> bool:
    """Whether ``value`` holds something shaped like an email address: within one run of
    non-space characters, some text, ``@``, then text with a dot inside it (what the pattern
    ``[^@\\s]+@[^@\\s]+\\.[^@\\s]+`` finds). Linear in the length of ``value``: a regular
    expression searching for that pattern takes quadratic time on a long run without one,
    and samples come from anyone who holds a write key."""
    for token in value.split():
        if "@" in token:
            for before, after in itertools.pairwise(token.split("@")):
                if before and "." in after[1:-1]:
                    return True
    return False


_PHONE_PUNCTUATION = frozenset("().-")


def looks_like_phone(value: str) -> bool:
    """Whether ``value`` (surrounding space aside) is a phone-number-shaped run: an optional
    ``+`` then at least seven digits, spaces, brackets, dots or dashes (what the pattern
    ``\\+?[\\d\\s().-]{7,}`` matches in full). One pass over the characters."""
    value = value.strip()
    body = value[1:] if value.startswith("+") else value
    return len(body) >= 7 and all(
        c.isdecimal() or c.isspace() or c in _PHONE_PUNCTUATION for c in body
    )


def _redact(value, personal: bool):
    if personal:
        return REDACTED
    if isinstance(value, str):
        if holds_email(value) or looks_like_phone(value):
            return REDACTED
        return value[:_SAMPLE_CHARS]
    if isinstance(value, dict | list):
        return f"<{type(value).__name__} of {len(value)}>"
    return value


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def check(plan: CompiledPlan, event_name: str, properties) -> list[Finding]:
    """Every way the event breaks the plan (empty when it follows it)."""
    event = plan.events.get(event_name)
    if event is None:
        return [
            Finding(
                ViolationKind.UNPLANNED_EVENT, "", f"{event_name!r} is not in the tracking plan."
            )
        ]
    if not isinstance(properties, dict):
        return [
            Finding(
                ViolationKind.WRONG_TYPE,
                "",
                "The properties are not an object.",
                _json_type(properties),
                event.version_id,
            )
        ]
    if event.validator is None:
        message = f"{event_name} {event.problem}"
        return [Finding(ViolationKind.OUT_OF_RANGE, "", message, None, event.version_id)]
    findings: list[Finding] = []
    if not event.declared.issuperset(properties):
        for name in sorted(properties.keys() - event.declared):
            findings.append(
                Finding(
                    ViolationKind.UNEXPECTED_PROPERTY,
                    name,
                    f"{name!r} is not in {event_name} {event.number}.",
                    {"type": _json_type(properties[name])},
                    event.version_id,
                )
            )
    if event.validator.is_valid(properties):
        return findings
    for error in event.validator.iter_errors(properties):
        kind_name = type(error.kind).__name__
        path = list(error.instance_path)
        top = str(path[0]) if path else ""
        if kind_name == "AdditionalProperties" and not path:
            continue  # already reported, one finding per property
        if kind_name == "Required":
            missing = getattr(error.kind, "property", None)
            where = ".".join([*map(str, path), str(missing)]) if missing is not None else ""
            findings.append(
                Finding(
                    ViolationKind.MISSING_REQUIRED, where, error.message, None, event.version_id
                )
            )
            continue
        if kind_name == "Type":
            kind = ViolationKind.WRONG_TYPE
        elif kind_name in _RANGE_KINDS:
            kind = ViolationKind.OUT_OF_RANGE
        elif kind_name == "AdditionalProperties":
            kind = ViolationKind.UNEXPECTED_PROPERTY
        else:
            kind = ViolationKind.OUT_OF_RANGE
        personal = top in event.personal
        message = error.message
        if personal or _redact(error.instance, False) == REDACTED:
            # The validator quotes the value; never store personal data in the message.
            message = f"{kind.label} at {'.'.join(map(str, path)) or '(event)'}."
        findings.append(
            Finding(
                kind,
                ".".join(map(str, path)),
                message[:500],
                _redact(error.instance, personal),
                event.version_id,
            )
        )
    return findings


_DELIVER = Verdict("deliver", ())


def gate(plan: CompiledPlan, mode: str, event_name: str, properties) -> Verdict:
    """Validate and decide by the source's enforcement mode."""
    event = plan.events.get(event_name)
    if (
        event is not None
        and type(properties) is dict
        and event.declared.issuperset(properties)
        and event.validator is not None
        and event.validator.is_valid(properties)
    ):
        return _DELIVER  # the common case: one lookup, one set check, one compiled call
    findings = tuple(check(plan, event_name, properties))
    if not findings or mode == Enforcement.ALLOW:
        return Verdict("deliver", findings)
    if mode == Enforcement.FLAG:
        return Verdict("flag", findings)
    return Verdict("quarantine", findings)
