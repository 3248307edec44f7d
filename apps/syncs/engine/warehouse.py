"""Running a model's query in its warehouse: read-only, time-limited, streamed.

The console's own database is a warehouse too (so the embedded demo works): PostgreSQL
through a separate read-only connection, or SQLite opened read-only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from django.conf import settings
from psycopg import sql as pgsql

from apps.destinations import crypto
from martech.common.errors import ApplicationError

from ..models import Warehouse, WarehouseKind
from .sql import check_sql


@dataclass(frozen=True)
class Preview:
    columns: list[dict]  # [{"name", "type"}]
    rows: list[tuple]


@dataclass(frozen=True)
class KeyCheck:
    rows: int
    nulls: int
    duplicates: list[tuple[str, int]]  # (key, times) of the first duplicated keys

    @property
    def ok(self) -> bool:
        return not self.nulls and not self.duplicates


def dsn_of(warehouse: Warehouse) -> str:
    return crypto.decrypt(warehouse.dsn_token).get("dsn", "")


def console_conninfo() -> str:
    db = settings.DATABASES["default"]
    parts = {"dbname": db["NAME"], "user": db.get("USER") or None,
             "password": db.get("PASSWORD") or None, "host": db.get("HOST") or None,
             "port": str(db["PORT"]) if db.get("PORT") else None}  # fmt: skip
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v})


def _sqlite() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


@contextmanager
def reading(warehouse: Warehouse):
    """A connection in a read-only transaction with the warehouse's statement timeout."""
    if warehouse.kind == WarehouseKind.CONSOLE and _sqlite():
        path = settings.DATABASES["default"]["NAME"]
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            yield conn
        finally:
            conn.close()
        return
    conninfo = console_conninfo() if warehouse.kind == WarehouseKind.CONSOLE else dsn_of(warehouse)
    try:
        conn = psycopg.connect(conninfo, connect_timeout=10, autocommit=False)
    except psycopg.Error as exc:
        raise ApplicationError(f"Cannot connect: {_first_line(exc)}", code="warehouse_unreachable",
                               status=400) from None  # fmt: skip
    try:
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(pgsql.SQL("SET LOCAL statement_timeout = {}").format(
            pgsql.Literal(f"{warehouse.statement_timeout}s")))  # fmt: skip
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


@contextmanager
def _as_application_error():
    """A failing query becomes a 400 that says why, never a 500."""
    try:
        yield
    except (psycopg.Error, sqlite3.Error) as exc:
        raise ApplicationError(f"The query failed: {_first_line(exc)}", code="query_failed",
                               status=400) from None  # fmt: skip


def _rows(warehouse: Warehouse, statement) -> list[tuple]:
    with _as_application_error(), reading(warehouse) as conn:
        return conn.execute(statement).fetchall()


def test_connection(warehouse: Warehouse) -> str:
    """A one-line description of the server, or ApplicationError with the reason."""
    if warehouse.kind == WarehouseKind.CONSOLE and _sqlite():
        return f"SQLite {sqlite3.sqlite_version} (read-only)"
    rows = _rows(warehouse, "SELECT version()")
    return rows[0][0].split(" on ")[0]


def _wrapped(sql: str, suffix: str) -> str:
    return f"SELECT * FROM ({check_sql(sql)}) AS model {suffix}"  # noqa: S608


def preview(warehouse: Warehouse, sql: str, limit: int = 20) -> Preview:
    """The first rows of a model and its columns with their types."""
    statement = _wrapped(sql, f"LIMIT {int(limit)}")
    with _as_application_error(), reading(warehouse) as conn:
        cursor = conn.cursor()
        cursor.execute(statement)
        rows = cursor.fetchall()
        columns = []
        for i, column in enumerate(cursor.description):
            if isinstance(conn, sqlite3.Connection):
                sample = next((r[i] for r in rows if r[i] is not None), None)
                kind = type(sample).__name__ if sample is not None else "unknown"
            else:
                info = conn.adapters.types.get(column.type_code)
                kind = info.name if info else str(column.type_code)
            columns.append({"name": column[0], "type": kind})
    return Preview(columns=columns, rows=[tuple(r) for r in rows])


def check_key(warehouse: Warehouse, sql: str, key: str) -> KeyCheck:
    """Rows, null keys and the first duplicated keys of a model."""
    if warehouse.kind == WarehouseKind.CONSOLE and _sqlite():
        quoted = '"' + key.replace('"', '""') + '"'
    else:
        quoted = pgsql.Identifier(key).as_string(None)
    base = check_sql(sql)
    counts = _rows(warehouse, f"SELECT count(*), count(*) - count({quoted}) "  # noqa: S608
                                   f"FROM ({base}) AS model")  # fmt: skip
    twice = (
        f"SELECT CAST({quoted} AS TEXT), count(*) FROM ({base}) AS model "  # noqa: S608
        f"WHERE {quoted} IS NOT NULL GROUP BY {quoted} HAVING count(*) > 1 "
        "ORDER BY count(*) DESC LIMIT 10"
    )
    dupes = _rows(warehouse, twice)
    return KeyCheck(rows=counts[0][0], nulls=counts[0][1],
                    duplicates=[(str(k), n) for k, n in dupes])  # fmt: skip


KEY, PRINT = "__martech_key", "__martech_fingerprint"


def stream_keyed(warehouse: Warehouse, sql: str, key: str, hashed: list[str],
                 batch: int = 5000) -> Iterator[tuple[int, list[tuple]]]:  # fmt: skip
    """The model's rows in primary-key order (the key as text, compared byte by byte), for a
    merge with the sync's state, as ``(extra, rows)``: each row starts with ``extra``
    columns, the key as text and, from PostgreSQL, the MD5 of ``hashed`` computed by the
    server (SQLite: the engine hashes). Streamed from a server-side cursor."""
    base = check_sql(sql)
    if warehouse.kind == WarehouseKind.CONSOLE and _sqlite():
        quoted = '"' + key.replace('"', '""') + '"'
        statement = (f'SELECT CAST(m.{quoted} AS TEXT) AS "{KEY}", m.* '  # noqa: S608
                     f"FROM ({base}) AS m ORDER BY 1")  # fmt: skip
        extra = 1
    else:
        name = pgsql.Identifier(key).as_string(None)
        values = ", ".join(f"s.{pgsql.Identifier(c).as_string(None)}" for c in hashed)
        # Sorted first, hashed after: rows start flowing as soon as the sort is done.
        statement = (
            f'SELECT s."{KEY}", '  # noqa: S608
            f"decode(md5(CAST(ROW({values}, NULL) AS text)), 'hex') AS \"{PRINT}\", s.* "
            f'FROM (SELECT CAST(m.{name} AS text) COLLATE "C" AS "{KEY}", m.* '
            f"FROM ({base}) AS m ORDER BY 1) AS s ORDER BY 1"
        )
        extra = 3  # the key, the fingerprint, and the key again (s.*)
    with _as_application_error(), reading(warehouse) as conn:
        if isinstance(conn, sqlite3.Connection):
            cursor = conn.execute(statement)
        else:
            cursor = conn.cursor(name="model_rows_keyed")
            cursor.itersize = batch
            cursor.execute(statement)
        while rows := cursor.fetchmany(batch):
            yield extra, rows
