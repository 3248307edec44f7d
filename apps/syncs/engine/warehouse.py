"""Running a model's query in its warehouse: read-only, time-limited, streamed.

The console's own database is a warehouse too (so the embedded demo works). On PostgreSQL a
model reads it as the activation role, which sees only schema ``activation``; on SQLite
through a read-only connection limited to the same views (see ``activation``). Every
PostgreSQL connection is checked on connect: its role may be neither a superuser nor a
member of the roles that read or write the server's files, run programs or signal other
backends. A company warehouse's DSN is checked again at connect and the connection pinned to
the address the egress policy allowed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from psycopg import sql as pgsql

from apps.syncs.errors import SyncsErrorCode
from martech.common import crypto
from martech.common.errors import ApplicationError

from ..models import Warehouse, WarehouseKind
from . import activation
from . import dsn as dsns
from .sql import check_sql

# Roles a warehouse connection may not hold: they read or write the server's files, run
# programs on it, or signal other sessions.
POWERFUL_ROLES = (
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
    "pg_signal_backend",
)


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
    """The console's own connection (its role, its tables): for the console's reads only."""
    db = settings.DATABASES["default"]
    parts = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": str(db["PORT"]) if db.get("PORT") else None,
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v})


def activation_params() -> dict[str, str]:
    """How the activation role logs in to the console's database: ``MARTECH_ACTIVATION_USER``
    and ``MARTECH_ACTIVATION_PASSWORD`` on the console's host, port and database, or what
    ``MARTECH_ACTIVATION_DATABASE_URL`` says (the rest from the console's)."""
    db = settings.DATABASES["default"]
    params = {
        "dbname": db.get("NAME"),
        "host": db.get("HOST"),
        "port": str(db["PORT"]) if db.get("PORT") else None,
        "user": getattr(settings, "MARTECH_ACTIVATION_USER", "") or "martech_activation",
        "password": getattr(settings, "MARTECH_ACTIVATION_PASSWORD", ""),
    }
    url = getattr(settings, "MARTECH_ACTIVATION_DATABASE_URL", "")
    if url:
        try:
            given = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error:
            raise ImproperlyConfigured(
                "MARTECH_ACTIVATION_DATABASE_URL is not a valid PostgreSQL URL."
            ) from None
        params.update({k: v for k, v in given.items() if v})
    return {k: str(v) for k, v in params.items() if v}


def _sqlite() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


def _embedded(warehouse: Warehouse) -> bool:
    return warehouse.kind == WarehouseKind.CONSOLE and _sqlite()


def model_sql(warehouse: Warehouse, sql: str) -> str:
    """The model's SQL as the warehouse runs it: one read query (``check_sql``) and, on the
    console's database, reading only the activation views."""
    text = check_sql(sql)
    if warehouse.kind == WarehouseKind.CONSOLE:
        activation.check_tables(text)
        if _sqlite():
            text = activation.for_sqlite(text)
    return text


def _connect(attempts: list[dict[str, str]]) -> psycopg.Connection:
    failure = ""
    for params in attempts:
        try:
            return psycopg.connect(**{"connect_timeout": "10", **params}, autocommit=False)
        except psycopg.Error as exc:
            failure = dsns.scrub(_first_line(exc), params.get("password"))
    raise ApplicationError(
        f"Cannot connect: {failure}", code=SyncsErrorCode.WAREHOUSE_UNREACHABLE, status=400
    )


def _check_role(conn: psycopg.Connection) -> None:
    """Refuse a connection whose role is a superuser or holds one of ``POWERFUL_ROLES``."""
    row = conn.execute(
        "SELECT current_user::text, r.rolsuper, ARRAY(SELECT b.rolname::text FROM pg_roles b "
        "WHERE b.rolname = ANY(%s) AND pg_has_role(r.oid, b.oid, 'MEMBER') ORDER BY 1) "
        "FROM pg_roles r WHERE r.rolname = current_user",
        [list(POWERFUL_ROLES)],
    ).fetchone()
    if row is None:
        raise ApplicationError(
            "The warehouse does not say which role it logs in as.",
            code=SyncsErrorCode.WAREHOUSE_ROLE_TOO_POWERFUL,
            status=400,
        )
    user, superuser, held = row
    if superuser or held:
        what = "a superuser" if superuser else f"a member of {', '.join(held)}"
        raise ApplicationError(
            f"The warehouse connection logs in as {user!r}, which is {what}: a model's SQL "
            "would run with rights over the database server itself. Connect as a role that "
            "may only read the tables the models need.",
            code=SyncsErrorCode.WAREHOUSE_ROLE_TOO_POWERFUL,
            status=400,
        )


@contextmanager
def reading(warehouse: Warehouse):
    """A connection in a read-only transaction with the warehouse's statement timeout."""
    if _embedded(warehouse):
        path = settings.DATABASES["default"]["NAME"]
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            activation.sqlite_prepare(conn)
            yield conn
        finally:
            conn.close()
        return
    if warehouse.kind == WarehouseKind.CONSOLE:
        attempts = [activation_params()]
    else:
        attempts = dsns.attempts(dsn_of(warehouse))
    conn = _connect(attempts)
    try:
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(
            pgsql.SQL("SET LOCAL statement_timeout = {}").format(
                pgsql.Literal(f"{warehouse.statement_timeout}s")
            )
        )
        if warehouse.kind == WarehouseKind.CONSOLE:
            conn.execute("SET LOCAL search_path = activation")
        with _as_application_error():
            _check_role(conn)
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
        reason = _first_line(exc)
        if isinstance(exc, sqlite3.DatabaseError) and (
            "authorized" in reason or "prohibited" in reason
        ):
            reason = f"it reads outside the activation views ({reason})"
        raise ApplicationError(
            f"The query failed: {reason}", code=SyncsErrorCode.QUERY_FAILED, status=400
        ) from None


def _rows(warehouse: Warehouse, statement) -> list[tuple]:
    with _as_application_error(), reading(warehouse) as conn:
        return conn.execute(statement).fetchall()


def test_connection(warehouse: Warehouse) -> str:
    """A one-line description of the server, or ApplicationError with the reason."""
    if _embedded(warehouse):
        return f"SQLite {sqlite3.sqlite_version} (read-only)"
    rows = _rows(warehouse, "SELECT version()")
    return rows[0][0].split(" on ")[0]


# A preview cell is shown only up to this many bytes (as text): twenty rows of a value the
# query makes as large as it likes would otherwise all be held by the web process.
PREVIEW_CELL_BYTES = 64 * 1024


def _too_large(size: int) -> str:
    return f"(a value of {size:,} bytes: too large to preview)"


def preview(warehouse: Warehouse, sql: str, limit: int = 20) -> Preview:
    """The first rows of a model and its columns with their types.

    The query is described first; then each column travels only when its text is at most
    ``PREVIEW_CELL_BYTES``, with its size beside it, so the database, not the web process,
    holds a value that is too large. Columns are named by position, so names the model
    repeats are read as written."""
    base = model_sql(warehouse, sql)
    with _as_application_error(), reading(warehouse) as conn:
        sqlite = isinstance(conn, sqlite3.Connection)
        cursor = conn.cursor()
        cursor.execute(f"SELECT * FROM ({base}) AS model LIMIT 0")  # noqa: S608
        described = cursor.description
        names = [column[0] for column in described]
        if not limit:
            rows: list[tuple] = []
        else:
            positions = ", ".join(f"c{i}" for i in range(len(names)))
            size = "length(CAST(c{i} AS BLOB))" if sqlite else "octet_length(CAST(c{i} AS text))"
            cells = ", ".join(
                f"CASE WHEN {size.format(i=i)} <= {PREVIEW_CELL_BYTES} THEN c{i} END, "
                f"{size.format(i=i)}"
                for i in range(len(names))
            )
            cursor.execute(
                f"WITH model({positions}) AS ({base}) "  # noqa: S608
                f"SELECT {cells} FROM model LIMIT {int(limit)}"
            )
            rows = [
                tuple(
                    _too_large(row[2 * i + 1])
                    if row[2 * i + 1] is not None and row[2 * i + 1] > PREVIEW_CELL_BYTES
                    else row[2 * i]
                    for i in range(len(names))
                )
                for row in cursor.fetchall()
            ]
        columns = []
        for i, column in enumerate(described):
            if sqlite:
                sample = next((r[i] for r in rows if r[i] is not None), None)
                kind = type(sample).__name__ if sample is not None else "unknown"
            else:
                info = conn.adapters.types.get(column.type_code)
                kind = info.name if info else str(column.type_code)
            columns.append({"name": names[i], "type": kind})
    return Preview(columns=columns, rows=rows)


def check_key(warehouse: Warehouse, sql: str, key: str) -> KeyCheck:
    """Rows, empty keys (null, or text that is blank) and the first duplicated keys of a
    model."""
    if _embedded(warehouse):
        quoted = '"' + key.replace('"', '""') + '"'
    else:
        quoted = pgsql.Identifier(key).as_string(None)
    base = model_sql(warehouse, sql)
    present = f"NULLIF(TRIM(CAST({quoted} AS TEXT)), '')"
    counts = _rows(
        warehouse,
        f"SELECT count(*), count(*) - count({present}) "  # noqa: S608
        f"FROM ({base}) AS model",
    )
    twice = (
        f"SELECT CAST({quoted} AS TEXT), count(*) FROM ({base}) AS model "  # noqa: S608
        f"WHERE {present} IS NOT NULL GROUP BY {quoted} HAVING count(*) > 1 "
        "ORDER BY count(*) DESC LIMIT 10"
    )
    dupes = _rows(warehouse, twice)
    return KeyCheck(
        rows=counts[0][0], nulls=counts[0][1], duplicates=[(str(k), n) for k, n in dupes]
    )


KEY, PRINT = "__martech_key", "__martech_fingerprint"


def stream_keyed(
    warehouse: Warehouse, sql: str, key: str, hashed: list[str], batch: int = 5000
) -> Iterator[tuple[int, list[tuple]]]:
    """The model's rows in primary-key order (the key as text, compared byte by byte), for a
    merge with the sync's state, as ``(extra, rows)``: each row starts with ``extra``
    columns, the key as text and, from PostgreSQL, the MD5 of ``hashed`` computed by the
    server (SQLite: the engine hashes). Streamed from a server-side cursor."""
    base = model_sql(warehouse, sql)
    if _embedded(warehouse):
        quoted = '"' + key.replace('"', '""') + '"'
        statement = (
            f'SELECT CAST(m.{quoted} AS TEXT) AS "{KEY}", m.* '  # noqa: S608
            f"FROM ({base}) AS m ORDER BY 1"
        )
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
