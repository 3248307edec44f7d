"""The warehouses the console connects to: one ``Engine`` per kind (``base``), found by kind
here. An engine's module imports its vendor's connector only when it connects, so that
listing the kinds (a form, the API's schema) loads none of them."""

from __future__ import annotations

import importlib
from functools import cache

from .base import Engine

# kind -> the module (in this package) whose ``ENGINE`` serves it (or, for a module that
# serves several kinds, its ``ENGINES[kind]``), in the order a form lists them.
MODULES: dict[str, str] = {
    "console": "postgres",
    "postgres": "postgres",
    "redshift": "postgres",
    "duckdb": "duckdb",
    "snowflake": "snowflake",
    "databricks": "databricks",
    "bigquery": "bigquery",
}


@cache
def engine_for(kind: str) -> Engine:
    """The engine of ``kind``; KeyError for a kind no engine serves."""
    module = importlib.import_module(f"{__name__}.{MODULES[kind]}")
    engine = getattr(module, "ENGINES", {}).get(kind) or module.ENGINE
    if engine.kind != kind:
        raise LookupError(f"{MODULES[kind]}.ENGINE serves {engine.kind!r}, not {kind!r}")
    return engine


def kinds() -> list[tuple[str, str]]:
    """(kind, label) of every engine, in ``MODULES`` order."""
    return [(kind, engine_for(kind).label) for kind in MODULES]
