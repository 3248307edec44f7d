"""Compare two versions of an event's JSON Schema and classify the change (SchemaVer).

- **addition**: every event valid under the old version is valid under the new one, and
  nothing consumers rely on went away (a new optional property, a wider type or enum, a
  looser limit);
- **revision**: the contract is tighter but the same shape (a stricter limit, pattern or
  format, a closed object, a property that stops being required): some old events may no
  longer pass;
- **breaking**: the shape changed (a property removed, a type changed, a new required
  property, an enum narrowed): a new model number.

Pure functions over plain dicts, so they are cheap to test exhaustively.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..choices import ChangeKind

ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "examples",
        "default",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$schema",
        "$id",
    }
)
STRUCTURE = frozenset(
    {"type", "properties", "required", "enum", "const", "items", "additionalProperties"}
)
# Lower bounds: raising one tightens. Upper bounds: lowering one tightens.
LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
ALL_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
RANK = {ChangeKind.NONE: 0, ChangeKind.ADDITION: 1, ChangeKind.REVISION: 2, ChangeKind.BREAKING: 3}


@dataclass(frozen=True)
class Change:
    path: str
    severity: str
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def _types(node: dict) -> frozenset[str]:
    kind = node.get("type")
    if kind is None:
        return ALL_TYPES
    types = frozenset([kind] if isinstance(kind, str) else kind)
    # An integer is a number: "number" admits every integer.
    return types | {"integer"} if "number" in types else types


def _enum(node: dict) -> list | None:
    if "const" in node:
        return [node["const"]]
    return node.get("enum")


def _contains(values: list, value) -> bool:
    return any(type(v) is type(value) and v == value for v in values)


def _compare(old: dict, new: dict, path: str, out: list[Change]) -> None:
    if not isinstance(old, dict) or not isinstance(new, dict):
        if old != new:
            out.append(
                Change(
                    path,
                    ChangeKind.BREAKING,
                    "The schema changed in a way that cannot be compared; treated as breaking.",
                )
            )
        return
    old_types, new_types = _types(old), _types(new)
    if old_types != new_types:
        if old_types <= new_types:
            added = ", ".join(sorted(new_types - old_types))
            out.append(Change(path, ChangeKind.ADDITION, f"Now also accepts {added}."))
        else:
            out.append(
                Change(
                    path, ChangeKind.BREAKING, f"Type changed from {_label(old)} to {_label(new)}."
                )
            )
    _compare_enum(_enum(old), _enum(new), path, out)
    for key in LOWER:
        _bound(old.get(key), new.get(key), path, key, tighter=lambda o, n: n > o, out=out)
    for key in UPPER:
        _bound(old.get(key), new.get(key), path, key, tighter=lambda o, n: n < o, out=out)
    for key in ("pattern", "format", "multipleOf", "uniqueItems"):
        if old.get(key) != new.get(key):
            if key not in new:
                out.append(Change(path, ChangeKind.ADDITION, f"No longer limited by {key}."))
            else:
                detail = f"{key} is now {new[key]!r} (was {old.get(key)!r})."
                out.append(Change(path, ChangeKind.REVISION, detail))
    if "properties" in old or "properties" in new or "required" in old or "required" in new:
        _compare_object(old, new, path, out)
    if "items" in old or "items" in new:
        if "items" not in new:
            out.append(Change(f"{path}[]", ChangeKind.ADDITION, "Items are no longer checked."))
        elif "items" not in old:
            out.append(Change(f"{path}[]", ChangeKind.REVISION, "Items are now checked."))
        else:
            _compare(old["items"], new["items"], f"{path}[]", out)
    known = ANNOTATIONS | STRUCTURE | set(LOWER) | set(UPPER)
    known |= {"pattern", "format", "multipleOf", "uniqueItems"}
    for key in sorted((set(old) | set(new)) - known):
        if old.get(key) != new.get(key):
            out.append(
                Change(
                    path,
                    ChangeKind.BREAKING,
                    f"{key} changed; the registry cannot prove old events still "
                    "pass, so it is treated as breaking.",
                )
            )


def _label(node: dict) -> str:
    kind = node.get("type")
    if kind is None:
        return "any type"
    return kind if isinstance(kind, str) else " or ".join(kind)


def _compare_enum(old: list | None, new: list | None, path: str, out: list[Change]) -> None:
    if old == new:
        return
    if new is None:
        out.append(Change(path, ChangeKind.ADDITION, "Any value is now allowed (enum removed)."))
        return
    if old is None:
        out.append(Change(path, ChangeKind.BREAKING, "Values are now limited to an enum."))
        return
    removed = [v for v in old if not _contains(new, v)]
    added = [v for v in new if not _contains(old, v)]
    if removed:
        shown = ", ".join(repr(v) for v in removed[:5])
        out.append(Change(path, ChangeKind.BREAKING, f"Enum narrowed: {shown} removed."))
    if added:
        shown = ", ".join(repr(v) for v in added[:5])
        out.append(Change(path, ChangeKind.ADDITION, f"Enum widened: {shown} added."))


def _bound(old, new, path: str, key: str, *, tighter, out: list[Change]) -> None:
    if old == new:
        return
    if new is None:
        out.append(Change(path, ChangeKind.ADDITION, f"{key} removed."))
    elif old is None:
        out.append(Change(path, ChangeKind.REVISION, f"{key} {new} added."))
    elif isinstance(old, bool) or isinstance(new, bool):
        # Draft 4 style boolean exclusive bounds: any change is a change of meaning.
        out.append(Change(path, ChangeKind.REVISION, f"{key} changed to {new}."))
    elif tighter(old, new):
        out.append(Change(path, ChangeKind.REVISION, f"{key} tightened from {old} to {new}."))
    else:
        out.append(Change(path, ChangeKind.ADDITION, f"{key} loosened from {old} to {new}."))


def _compare_object(old: dict, new: dict, path: str, out: list[Change]) -> None:
    old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
    old_req, new_req = set(old.get("required") or ()), set(new.get("required") or ())
    prefix = f"{path}." if path else ""
    for name in sorted(set(old_props) - set(new_props)):
        out.append(Change(f"{prefix}{name}", ChangeKind.BREAKING, "Property removed."))
    for name in sorted(set(new_props) - set(old_props)):
        if name in new_req:
            out.append(
                Change(
                    f"{prefix}{name}",
                    ChangeKind.BREAKING,
                    "New required property: old events do not have it.",
                )
            )
        else:
            out.append(Change(f"{prefix}{name}", ChangeKind.ADDITION, "New optional property."))
    for name in sorted(set(old_props) & set(new_props)):
        if name in new_req and name not in old_req:
            out.append(
                Change(
                    f"{prefix}{name}",
                    ChangeKind.BREAKING,
                    "Now required: old events may not have it.",
                )
            )
        elif name in old_req and name not in new_req:
            detail = "No longer required: consumers can no longer rely on it."
            out.append(Change(f"{prefix}{name}", ChangeKind.REVISION, detail))
        _compare(old_props[name], new_props[name], f"{prefix}{name}", out)
    for name in sorted((new_req - old_req) - set(new_props) - set(old_props)):
        out.append(Change(f"{prefix}{name}", ChangeKind.BREAKING, "New required property."))
    old_extra = old.get("additionalProperties", True)
    new_extra = new.get("additionalProperties", True)
    if old_extra != new_extra:
        if new_extra is False:
            out.append(
                Change(
                    path or "(event)",
                    ChangeKind.REVISION,
                    "Unplanned properties are no longer allowed.",
                )
            )
        elif old_extra is False and new_extra is True:
            out.append(
                Change(
                    path or "(event)", ChangeKind.ADDITION, "Unplanned properties are now allowed."
                )
            )
        else:
            _compare(
                old_extra if isinstance(old_extra, dict) else {},
                new_extra if isinstance(new_extra, dict) else {},
                f"{prefix}(other properties)",
                out,
            )


def diff(old: dict, new: dict) -> list[Change]:
    """Every difference between two versions, in path order."""
    out: list[Change] = []
    _compare(old, new, "", out)
    return out


def classify(changes: list[Change]) -> str:
    """The most severe change; NONE when only annotations changed."""
    worst = ChangeKind.NONE
    for change in changes:
        if RANK[change.severity] > RANK[worst]:
            worst = change.severity
    return worst


def next_number(previous: tuple[int, int, int] | None, kind: str) -> tuple[int, int, int]:
    """SchemaVer: breaking bumps MODEL, revision bumps REVISION, anything else ADDITION."""
    if previous is None:
        return (1, 0, 0)
    model, revision, addition = previous
    if kind == ChangeKind.BREAKING:
        return (model + 1, 0, 0)
    if kind == ChangeKind.REVISION:
        return (model, revision + 1, 0)
    return (model, revision, addition + 1)
