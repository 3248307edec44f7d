"""A warehouse row and its engine: what the console reads through, for every kind.

Each ``Warehouse`` names its ``kind``; the engine of that kind (``apps.syncs.warehouses``)
connects with the warehouse's credentials (decrypted here, never anywhere else) and limits
every statement to the warehouse's ``statement_timeout``. Models, runs, pages and the API
call these functions with the warehouse; they never see the credentials.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from martech.common import crypto
from martech.common.errors import ApplicationError

from ..errors import SyncsErrorCode
from ..models import Warehouse
from ..warehouses import MODULES, engine_for
from ..warehouses.base import Engine, KeyCheck, Preview

__all__ = ["KeyCheck", "Preview"]


def engine_of(warehouse: Warehouse) -> Engine:
    """The engine of the warehouse's kind, or ``invalid_kind`` for a kind none serves."""
    if warehouse.kind not in MODULES:
        raise ApplicationError(
            f"No engine reads warehouses of kind {warehouse.kind!r}.",
            code=SyncsErrorCode.INVALID_KIND,
        )
    return engine_for(warehouse.kind)


def credentials_of(warehouse: Warehouse) -> dict[str, str]:
    """The warehouse's credentials, decrypted ({} when it needs none)."""
    return crypto.decrypt(warehouse.dsn_token) if warehouse.dsn_token else {}


def credentials_set(warehouse: Warehouse) -> list[str]:
    """The labels of the credential fields stored for the warehouse (never their values)."""
    if warehouse.kind not in MODULES:
        return []
    stored = credentials_of(warehouse)
    return [field.label for field in engine_for(warehouse.kind).fields if stored.get(field.name)]


def reading(warehouse: Warehouse):
    """A read-only connection with the warehouse's statement timeout."""
    return engine_of(warehouse).reading(
        credentials_of(warehouse), timeout=warehouse.statement_timeout
    )


def test_connection(warehouse: Warehouse) -> str:
    """A one-line description of the server, or ApplicationError with the reason."""
    engine = engine_of(warehouse)
    with reading(warehouse) as conn:
        return engine.version(conn)


def preview(warehouse: Warehouse, sql: str, limit: int = 20) -> Preview:
    """The first rows of a model and its columns with their types."""
    return engine_of(warehouse).preview(
        credentials_of(warehouse), sql, timeout=warehouse.statement_timeout, limit=limit
    )


def check_key(warehouse: Warehouse, sql: str, key: str) -> KeyCheck:
    """Rows, empty keys and the first duplicated keys of a model."""
    return engine_of(warehouse).check_key(
        credentials_of(warehouse), sql, key, timeout=warehouse.statement_timeout
    )


def stream_keyed(
    warehouse: Warehouse, sql: str, key: str, hashed: Sequence[str], batch: int = 5000
) -> Iterator[tuple[int, list[tuple]]]:
    """The model's rows in key order, for a merge with the sync's state (see
    ``Engine.stream_keyed``)."""
    return engine_of(warehouse).stream_keyed(
        credentials_of(warehouse),
        sql,
        key,
        hashed,
        timeout=warehouse.statement_timeout,
        batch=batch,
    )
