"""DuckDB database files for the warehouse tests: made under the test's own
``MARTECH_VAR_DIR/warehouses/`` with the console's writing connection closed after."""

from __future__ import annotations

from pathlib import Path

import duckdb


def make_database(directory: Path, name: str, *statements: str) -> dict[str, str]:
    """A DuckDB file ``directory/name`` holding what ``statements`` create; the credentials
    that name it (relative, as a person enters it)."""
    directory.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(directory / name)) as connection:
        for statement in statements:
            connection.execute(statement)
    return {"path": name, "token": ""}
