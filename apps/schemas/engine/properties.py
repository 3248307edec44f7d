"""A version's properties as rows a person edits, and the JSON Schema those rows write.

The row editor owns four keywords of each property's schema (``type``, ``description``,
``enum``, ``format``) and the top-level ``required`` list. Everything else a schema may say
(``items``, nested ``properties``, limits, patterns, ``oneOf``, top-level keywords such as
``additionalProperties``) is kept exactly as written: a property that uses such a keyword has
its type, values and format locked in the row editor and is changed in the raw JSON.

What each property is for travels in the JSON as the registry's ``x-`` annotations, the same
ones a tracking plan's files carry (see ``bundle``); they are split off before the schema is
stored, so the engine validates and compares plain JSON Schema.

Pure functions over plain dicts.
"""

from __future__ import annotations

import copy

TYPES = ("string", "number", "integer", "boolean", "object", "array")
FORMATS = (
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "uuid",
    "regex",
)
# The registry's annotations of a property: JSON Schema ignores ``x-`` keywords.
META = {
    "x-purpose": "purpose",
    "x-data-category": "data_category",
    "x-personal": "personal",
    "x-owner": "owner",
}
EDITABLE = frozenset({"type", "description", "enum", "format"})
ENUM_TYPES = frozenset({"string", "number", "integer"})
TOP_LEVEL = frozenset({"$schema", "type", "properties", "required"})


def locked_keys(node) -> list[str]:
    """The keywords of a property's schema that the row editor cannot show (empty: it can)."""
    if not isinstance(node, dict):
        return ["a boolean schema"]
    keys = sorted(set(node) - EDITABLE - set(META))
    kind = node.get("type")
    if "type" in node and kind not in TYPES:
        keys.append("type " + " | ".join(kind) if isinstance(kind, list) else "type")
    if "enum" in node:
        values = node["enum"]
        if (
            kind not in ENUM_TYPES
            or not isinstance(values, list)
            or not all(_fits(v, kind) for v in values)
        ):
            keys.append("enum")
    if "format" in node and (kind != "string" or not isinstance(node["format"], str)):
        keys.append("format")
    return keys


def extra_keywords(json_schema: dict) -> list[str]:
    """Top-level keywords besides the properties and the required list, kept as written."""
    return sorted(set(json_schema) - TOP_LEVEL)


def _fits(value, kind: str) -> bool:
    if isinstance(value, bool):
        return False
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int)
    return isinstance(value, int | float)


def enum_text(values) -> str:
    """Allowed values as the editor shows them: one a line."""
    return "\n".join(str(v) for v in values or ())


def parse_enum(text: str, kind: str) -> list:
    """Allowed values typed as one a line, or comma separated on one line, as ``kind``.

    Raises ``ValueError`` with a sentence that says what is wrong."""
    text = (text or "").strip()
    if not text:
        return []
    if not kind:
        raise ValueError("Choose a type (string, number or integer) to list allowed values.")
    if kind not in ENUM_TYPES:
        if kind == "boolean":
            raise ValueError("A boolean is true or false: leave the allowed values empty.")
        raise ValueError(f"Allowed values apply to strings and numbers, not to an {kind}.")
    raw = text.splitlines() if "\n" in text else text.split(",")
    values: list = []
    for item in (part.strip() for part in raw):
        if not item:
            continue
        value = item
        if kind == "integer":
            try:
                value = int(item)
            except ValueError:
                raise ValueError(f"{item!r} is not a whole number.") from None
        elif kind == "number":
            try:
                number = float(item)
            except ValueError:
                raise ValueError(f"{item!r} is not a number.") from None
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(f"{item!r} is not a number.")
            value = int(number) if number.is_integer() and "." not in item else number
        if value in values:
            raise ValueError(f"{item!r} is listed twice.")
        values.append(value)
    return values


def rows(json_schema: dict, specs) -> list[dict]:
    """One row per property of ``json_schema``, by name, with what ``specs`` (the
    version's PropertySpecs) say each is for."""
    by_name = {spec.name: spec for spec in specs}
    required = set(json_schema.get("required") or ())
    out = []
    # By name: PostgreSQL's JSON keeps no key order, so a page would otherwise show
    # properties in the order of their names' lengths.
    for name, node in sorted((json_schema.get("properties") or {}).items()):
        spec = by_name.get(name)
        plain = node if isinstance(node, dict) else {}
        kind = plain.get("type")
        out.append(
            {
                "name": name,
                "original": name,
                "type": kind if kind in TYPES else "",
                "required": name in required,
                "description": (spec.description if spec else "")
                or str(plain.get("description", "")),
                "purpose": spec.purpose if spec else "",
                "data_category": spec.data_category if spec else "behavioural",
                "personal": spec.personal if spec else False,
                "owner": spec.owner if spec else "",
                "enum": enum_text(plain.get("enum")) if isinstance(plain.get("enum"), list) else "",
                "format": plain.get("format", "") if isinstance(plain.get("format"), str) else "",
            }
        )
    return out


def build(base: dict, edited: list[dict]) -> dict:
    """The JSON Schema the rows describe, starting from ``base`` (the draft as stored).

    Each row is ``name``, ``original`` (its name in ``base``, blank when new), ``type``,
    ``required``, ``description``, ``enum`` (a list) and ``format``. A property whose schema
    uses keywords the rows cannot show keeps them, and its type, values and format."""
    document = copy.deepcopy(base)
    before = base.get("properties") or {}
    properties: dict = {}
    for row in edited:
        existed = bool(row.get("original")) and row["original"] in before
        node = copy.deepcopy(before[row["original"]]) if existed else {}
        if existed and locked_keys(node):
            if isinstance(node, dict):
                _set(node, "description", row.get("description"))
            properties[row["name"]] = node
            continue
        _set(node, "type", row["type"])
        _set(node, "description", row.get("description"))
        _set(node, "enum", row.get("enum") or None)
        _set(node, "format", row.get("format") if row["type"] == "string" else None)
        properties[row["name"]] = node
    document["properties"] = properties
    wanted = [row["name"] for row in edited if row.get("required")]
    # The required list keeps its order (the database may not keep the properties' order).
    renamed = {row["original"]: row["name"] for row in edited if row.get("original")}
    required = [
        renamed[name]
        for name in base.get("required") or ()
        if name in renamed and renamed[name] in wanted
    ]
    required += [name for name in wanted if name not in required]
    if required or "required" in base:
        document["required"] = required
    return document


def _set(node: dict, key: str, value) -> None:
    if value in (None, "", []):
        node.pop(key, None)
    else:
        node[key] = value


def annotate(json_schema: dict, specs) -> dict:
    """``json_schema`` with each property's purpose, data category, personal flag and owner
    written into it as ``x-`` annotations, for the raw JSON view (and a plan's files)."""
    document = copy.deepcopy(json_schema)
    properties = document.get("properties") or {}
    for spec in specs:
        node = properties.get(spec.name)
        if not isinstance(node, dict):
            continue
        if spec.description:
            node["description"] = spec.description
        node.update({key: getattr(spec, field) for key, field in META.items()})
    return document


def split(document: dict) -> tuple[dict, dict[str, dict]]:
    """The schema without ``x-`` annotations, and each annotated property's details.

    Raises ``ValueError`` with a sentence when an annotation has the wrong kind of value."""
    document = copy.deepcopy(document)
    fields: dict[str, dict] = {}
    nodes = document.get("properties")
    for name, node in (nodes if isinstance(nodes, dict) else {}).items():
        if not isinstance(node, dict):
            continue
        details = {field: node.pop(key) for key, field in META.items() if key in node}
        if "description" in node and isinstance(node["description"], str):
            details["description"] = node["description"]
        for field in ("purpose", "data_category", "owner", "description"):
            if field in details and not isinstance(details[field], str):
                raise ValueError(f"{name}: {_key(field)} must be text.")
        if "personal" in details and not isinstance(details["personal"], bool):
            raise ValueError(f"{name}: x-personal must be true or false.")
        if details:
            fields[name] = details
    return document, fields


def _key(field: str) -> str:
    return next((k for k, f in META.items() if f == field), field)
