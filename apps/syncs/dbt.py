"""What the console reads from a dbt ``manifest.json``: the enabled models, each with the
relation it builds (quoted for the warehouse's dialect), its description, owner, columns
and a primary-key guess (a column with both a ``unique`` and a ``not_null`` test)."""

from __future__ import annotations

import json
from typing import Any

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from martech.common.errors import ApplicationError

from .errors import SyncsErrorCode

MAX_MANIFEST_BYTES = 20 * 1024 * 1024


def _bad(message: str, code: SyncsErrorCode = SyncsErrorCode.INVALID_MANIFEST) -> ApplicationError:
    return ApplicationError(message, code=code, details={"field": "manifest"})


def load(raw: bytes) -> dict:
    """The manifest in ``raw`` (an uploaded file's bytes), or ``invalid_manifest``."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise _bad(
            f"The manifest is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MB.",
            SyncsErrorCode.MANIFEST_TOO_LARGE,
        )
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise _bad("The file is not JSON: upload dbt's target/manifest.json.") from None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def relation(node: dict, dialect: str) -> str:
    """The node's relation as the warehouse names it: dbt's ``relation_name`` if it gave
    one, else database.schema.alias, each part quoted for ``dialect``."""
    given = _text(node.get("relation_name"))
    if given:
        return given
    parts = [_text(node.get(key)) for key in ("database", "schema")]
    parts.append(_text(node.get("alias")) or _text(node.get("name")))
    table = exp.Table(
        this=exp.to_identifier(parts[2], quoted=True),
        db=exp.to_identifier(parts[1], quoted=True) if parts[1] else None,
        catalog=exp.to_identifier(parts[0], quoted=True) if parts[0] and parts[1] else None,
    )
    return table.sql(dialect=dialect)


def select_all(relation_name: str, dialect: str) -> str:
    """``SELECT * FROM`` the relation, built by sqlglot: a relation that is not a table
    name is refused."""
    try:
        table = exp.to_table(relation_name, dialect=dialect)
    except (ParseError, TokenError, ValueError):
        table = None
    if not isinstance(table, exp.Table) or not table.name:
        raise _bad(f"{relation_name!r} is not a table name.")
    return exp.select("*").from_(table).sql(dialect=dialect)


def _owner(node: dict) -> str:
    for meta in (node.get("meta"), (node.get("config") or {}).get("meta")):
        if isinstance(meta, dict) and _text(meta.get("owner")):
            return _text(meta["owner"])
    return ""


def _tested(nodes: dict) -> dict[str, dict[str, set[str]]]:
    """Per model unique_id, per column: the names of the generic tests on it."""
    tests: dict[str, dict[str, set[str]]] = {}
    for node in nodes.values():
        if not isinstance(node, dict) or node.get("resource_type") != "test":
            continue
        metadata = node.get("test_metadata") or {}
        name = _text(metadata.get("name")) if isinstance(metadata, dict) else ""
        column = _text(node.get("column_name"))
        if not name or not column:
            continue
        model = _text(node.get("attached_node"))
        targets = [model] if model else list((node.get("depends_on") or {}).get("nodes") or [])
        for target in targets:
            if isinstance(target, str):
                tests.setdefault(target, {}).setdefault(column, set()).add(name)
    return tests


def parse(manifest: Any, *, dialect: str) -> tuple[dict, list[dict]]:
    """``(metadata, models)`` of a manifest: ``metadata`` has ``dbt_version`` and
    ``generated_at``; each model is a dict of unique_id, name, relation, description,
    owner, columns ([{name, description}]) and primary_key (a guess; may be empty).
    Not a manifest, or one with no models: ``invalid_manifest`` / ``no_dbt_models``."""
    metadata = manifest.get("metadata") if isinstance(manifest, dict) else None
    if not isinstance(metadata, dict) or not _text(metadata.get("dbt_schema_version")):
        raise _bad("This is not a dbt manifest: it has no metadata.dbt_schema_version.")
    nodes = manifest.get("nodes")
    if not isinstance(nodes, dict):
        raise _bad("This dbt manifest has no nodes.")
    tests = _tested(nodes)
    found = []
    for key, node in nodes.items():
        if not isinstance(node, dict) or node.get("resource_type") != "model":
            continue
        if (node.get("config") or {}).get("enabled", True) is False:
            continue
        unique_id = _text(node.get("unique_id")) or key
        raw_columns = node.get("columns") if isinstance(node.get("columns"), dict) else {}
        columns = [
            {"name": _text(c.get("name")) or name, "description": _text(c.get("description"))}
            for name, c in raw_columns.items()
            if isinstance(c, dict)
        ]
        tested = tests.get(unique_id, {})
        keys = [
            c["name"] for c in columns if {"unique", "not_null"} <= tested.get(c["name"], set())
        ]
        keys += sorted(
            n for n, t in tested.items() if {"unique", "not_null"} <= t and n not in keys
        )
        name = relation(node, dialect)
        found.append(
            {
                "unique_id": unique_id,
                "name": _text(node.get("name")) or unique_id.rsplit(".", 1)[-1],
                "relation": name,
                "sql": select_all(name, dialect),
                "description": _text(node.get("description")),
                "owner": _owner(node),
                "columns": columns,
                "primary_key": keys[0] if keys else "",
            }
        )
    if not found:
        raise _bad("The manifest has no enabled dbt models.", SyncsErrorCode.NO_DBT_MODELS)
    found.sort(key=lambda m: m["unique_id"])
    about = {
        "dbt_version": _text(metadata.get("dbt_version"))[:40],
        "generated_at": _text(metadata.get("generated_at"))[:40],
    }
    return about, found
