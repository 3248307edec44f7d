"""PostgreSQL's wire protocol, three ways: the console's own database (``console``), a
company's PostgreSQL (``postgres``) and Amazon Redshift (``redshift``), all through psycopg.

The console's own database is a warehouse too (so the embedded demo works). On PostgreSQL a
model reads it as the activation role, which sees only schema ``activation``; on SQLite
through a read-only connection limited to the same views (see ``activation``). Every
PostgreSQL connection is checked on connect: its role may be neither a superuser nor a
member of the roles that read or write the server's files, run programs or signal other
backends. A company warehouse's DSN is checked when it is saved and again at connect (``parse``:
no file options, no socket path, one host), and the connection is pinned to the addresses
the egress policy allowed.

Redshift speaks PostgreSQL 8.0's protocol but not all of its SQL. What this engine does
differently, from Amazon's Redshift Database Developer Guide:

- Read-only: ``BEGIN READ ONLY`` (Redshift's BEGIN takes READ ONLY; psycopg sends it for a
  connection marked ``read_only``), and ``SET statement_timeout`` in milliseconds (its only
  unit; WLM's own ``max_execution_time`` may cut a query shorter).
- The role: Redshift has neither ``pg_has_role`` (the access privilege inquiry functions are
  not supported) nor PostgreSQL's predefined file, program and signal roles; the check is
  ``pg_user.usesuper`` of the user logged in.
- Text: ``text`` is an alias of ``VARCHAR(256)`` there, so values are cast to
  ``VARCHAR(65535)`` (its largest) before they are measured, compared or hashed.
- Key order: no ``COLLATE "C"`` (Redshift has no locale or user-defined collations; its
  default ``case_sensitive`` collation compares bytes). A database created
  ``COLLATE CASE_INSENSITIVE`` sorts differently; a run notices keys out of order and stops.
- The fingerprint: row constructors (``ROW(…)::text``) are not supported, so it is
  ``MD5`` over the concatenated values, each written as its length and text (``n`` for
  null) so no two rows run together. Booleans do not cast to VARCHAR there; they are
  written ``true``/``false``. ``decode(…, 'hex')`` is Oracle's DECODE on Redshift, so the
  hex digest is turned into bytes here, not by the server.
- ``version()`` names PostgreSQL 8.0.2 and then Redshift's own version: the line shown is
  the latter.
- Loading: Redshift's COPY reads from Amazon S3 (or DynamoDB, EMR, SSH hosts), never from
  the client's connection, and it has no arrays, ``ON CONFLICT`` or ``jsonb``. A batch is
  staged in a temporary table by multi-row ``INSERT``s and its new keys inserted from there;
  ``text`` columns are ``VARCHAR(65535)``, JSON is kept as its text.

Loading into PostgreSQL (``writing``, ``ensure``, ``load``): a connection as the
credentials' role (checked as a reading one is: no superuser, none of the file, program and
signal roles), one transaction per ``with``. A table is created with a unique key
(``message_id`` as ``id``), so a batch's keys are looked up by index: when none is loaded yet
(the usual case) the batch is copied straight into the table by binary COPY; otherwise it is
copied into a temporary table and only its new keys are inserted from there.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import psycopg
import psycopg.types.json
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from psycopg import sql as pgsql

from apps.syncs.errors import SyncsErrorCode
from martech.common import egress
from martech.common.errors import ApplicationError

from ..engine.sql import check_sql
from . import activation
from .base import Cleaned, Column, CredentialField, Engine, KeyCheck, Preview, Table
from .sqlengine import console_type

# -- DSNs ----------------------------------------------------------------------------------

# Options a DSN may set; everything else libpq knows is refused by name.
ALLOWED = frozenset(
    {
        "host",
        "port",
        "dbname",
        "user",
        "password",
        "sslmode",
        "sslnegotiation",
        "sslcompression",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "sslsni",
        "channel_binding",
        "require_auth",
        "gssencmode",
        "connect_timeout",
        "application_name",
        "fallback_application_name",
        "client_encoding",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
    }
)
# Options that name a file on the console's server (or a key's passphrase, useless without
# one): the console would read its own files on the DSN writer's behalf.
FILE_OPTIONS = frozenset(
    {
        "sslkey",
        "sslcert",
        "sslrootcert",
        "sslcrl",
        "sslcrldir",
        "sslpassword",
        "passfile",
        "service",
        "servicefile",
        "sslcertmode",
        "krbsrvname",
        "gsslib",
        "gssdelegation",
    }
)


def invalid(message: str) -> ApplicationError:
    return ApplicationError(message, code=SyncsErrorCode.INVALID_DSN, details={"field": "dsn"})


def parse(dsn: str, default_port: int = 5432) -> dict[str, str]:
    """The DSN's parameters, or ``invalid_dsn`` saying what is wrong (never echoing it)."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn or "")
    except psycopg.Error:
        raise invalid(
            "The DSN is not valid: write postgresql://user:password@host:port/database "
            "(percent-encode special characters of the password, e.g. % as %25) or "
            "host=… port=… dbname=… user=… password=…."
        ) from None
    names = set(params)
    files = sorted(names & FILE_OPTIONS)
    if files:
        raise invalid(
            f"The DSN may not set {', '.join(files)}: options that read files on the "
            "console's server are not allowed."
        )
    if "hostaddr" in names:
        raise invalid("The DSN may not set hostaddr: name the host; the console resolves it.")
    others = sorted(names - ALLOWED)
    if others:
        raise invalid(f"The DSN may not set {', '.join(others)}.")
    host = (params.get("host") or "").strip()
    if not host:
        raise invalid("The DSN names no host: a warehouse is reached over the network.")
    if host.startswith(("/", "@")):
        raise invalid("The DSN's host is a socket path; name a network host.")
    if "," in host or "," in (params.get("port") or ""):
        raise invalid("The DSN names several hosts; name one.")
    port = (params.get("port") or str(default_port)).strip()
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise invalid("The DSN's port is not a port number.")
    return {**params, "port": port}


def scrub(message: str, *secrets: str | None) -> str:
    """The message without any of the secrets in it."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


# -- the console's own database ------------------------------------------------------------


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


# -- reading -------------------------------------------------------------------------------


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


@contextmanager
def as_application_error():
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


def _connect(attempts: list[dict[str, str]]) -> psycopg.Connection:
    failure = ""
    for params in attempts:
        try:
            return psycopg.connect(**{"connect_timeout": "10", **params}, autocommit=False)
        except psycopg.Error as exc:
            failure = scrub(_first_line(exc), params.get("password"))
    raise ApplicationError(
        f"Cannot connect: {failure}", code=SyncsErrorCode.WAREHOUSE_UNREACHABLE, status=400
    )


def _too_powerful(user: str, what: str) -> ApplicationError:
    return ApplicationError(
        f"The warehouse connection logs in as {user!r}, which is {what}: a model's SQL "
        "would run with rights over the database server itself. Connect as a role that "
        "may only read the tables the models need.",
        code=SyncsErrorCode.WAREHOUSE_ROLE_TOO_POWERFUL,
        status=400,
    )


def _nameless() -> ApplicationError:
    return ApplicationError(
        "The warehouse does not say which role it logs in as.",
        code=SyncsErrorCode.WAREHOUSE_ROLE_TOO_POWERFUL,
        status=400,
    )


# A preview cell is shown only up to this many bytes (as text): twenty rows of a value the
# query makes as large as it likes would otherwise all be held by the web process.
PREVIEW_CELL_BYTES = 64 * 1024


def _too_large(size: int) -> str:
    return f"(a value of {size:,} bytes: too large to preview)"


KEY, PRINT = "__martech_key", "__martech_fingerprint"

# -- loading -------------------------------------------------------------------------------

# Each of ``base.COLUMN_TYPES`` as PostgreSQL declares it, and as a binary COPY sends it
# (JSON travels as its text: the layout has written it already).
PG_TYPES = {
    "string": ("text", "text"),
    "integer": ("bigint", "int8"),
    "float": ("double precision", "float8"),
    "boolean": ("boolean", "bool"),
    "timestamp": ("timestamp with time zone", "timestamptz"),
    "json": ("jsonb", "jsonb"),
}
STAGING = "__martech_staging"
# Rows of one multi-row INSERT where a batch cannot be copied (Redshift), and values of
# one DELETE.
INSERT_ROWS = 500
DELETE_CHUNK = 1000


def _as_is(text: str) -> str:
    """JSON values reach a load as their text already."""
    return text


def _once(rows: Sequence[tuple], key: int) -> list[tuple]:
    """``rows`` with each key once (its first row)."""
    seen: dict = {}
    for row in rows:
        seen.setdefault(row[key], row)
    return list(seen.values()) if len(seen) < len(rows) else list(rows)


EXAMPLE = "postgresql://reader:…@warehouse:5432/analytics"


def _dsn_field(example: str) -> CredentialField:
    return CredentialField(
        "dsn",
        "DSN",
        secret=True,
        help=f"For example {example}. Use a role that can only read: a superuser is "
        "refused, and so are options that read files (sslkey, passfile, service …) and "
        "socket paths.",
    )


class PostgresEngine(Engine):
    """A company's PostgreSQL, reached with a DSN (stored whole, as ``{"dsn": …}``)."""

    kind: ClassVar[str] = "postgres"
    label: ClassVar[str] = "PostgreSQL"
    dialect: ClassVar[str] = "postgres"
    default_port: ClassVar[int] = 5432
    # Roles a warehouse connection may not hold: they read or write the server's files,
    # run programs on it, or signal other sessions.
    POWERFUL_ROLES: ClassVar[tuple[str, ...]] = (
        "pg_read_server_files",
        "pg_write_server_files",
        "pg_execute_server_program",
        "pg_signal_backend",
    )
    # What a value is cast to before it is measured, compared or hashed.
    TEXT: ClassVar[str] = "text"

    fields: ClassVar[tuple[CredentialField, ...]] = (_dsn_field(EXAMPLE),)

    # -- credentials ---------------------------------------------------------------------

    def clean(self, given: dict[str, str], previous: dict[str, str] | None = None) -> Cleaned:
        dsn = (given.get("dsn") or "").strip() or (previous or {}).get("dsn", "")
        if not dsn:
            raise invalid(f"A {self.label} warehouse needs a DSN.")
        parts = parse(dsn, self.default_port)
        # A name that does not resolve yet is accepted: the connection resolves and checks
        # it again, and connects to nothing else.
        try:
            with contextlib.suppress(egress.EgressUnresolved):
                egress.resolve(parts["host"], int(parts["port"]))
        except egress.EgressRefused as exc:
            exc.details = {**exc.details, "field": "dsn"}
            raise
        where = f"{parts['host']}:{parts['port']}/{parts.get('dbname', '')}"
        display = f"{where} as {parts['user']}" if parts.get("user") else where
        return Cleaned(credentials={"dsn": dsn}, display=display)

    def endpoints(self, credentials: dict[str, str]) -> list[tuple[str, int]]:
        parts = parse(credentials.get("dsn", ""), self.default_port)
        return [(parts["host"], int(parts["port"]))]

    def attempts(self, credentials: dict[str, str]) -> list[dict[str, str]]:
        """The connection parameters to try, one per address the host resolved to and the
        egress policy allowed, each pinned with ``hostaddr`` (no second DNS answer)."""
        params = parse(credentials.get("dsn", ""), self.default_port)
        addresses = egress.resolve(params["host"], int(params["port"]))
        return [{**params, "hostaddr": address} for address in addresses]

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def reading(self, credentials: dict[str, str], *, timeout: int):
        """A connection in a read-only transaction with the statement timeout."""
        conn = _connect(self.attempts(credentials))
        try:
            self.prepare(conn, timeout)
            with as_application_error():
                self.check_role(conn)
            yield conn
        finally:
            conn.rollback()
            conn.close()

    def prepare(self, conn: psycopg.Connection, timeout: int) -> None:
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(
            pgsql.SQL("SET LOCAL statement_timeout = {}").format(pgsql.Literal(f"{timeout}s"))
        )

    def check_role(self, conn: psycopg.Connection) -> None:
        """Refuse a connection whose role is a superuser or holds one of
        ``POWERFUL_ROLES``."""
        row = conn.execute(
            "SELECT current_user::text, r.rolsuper, ARRAY(SELECT b.rolname::text FROM pg_roles "
            "b WHERE b.rolname = ANY(%s) AND pg_has_role(r.oid, b.oid, 'MEMBER') ORDER BY 1) "
            "FROM pg_roles r WHERE r.rolname = current_user",
            [list(self.POWERFUL_ROLES)],
        ).fetchone()
        if row is None:
            raise _nameless()
        user, superuser, held = row
        if superuser or held:
            raise _too_powerful(
                user, "a superuser" if superuser else f"a member of {', '.join(held)}"
            )

    def version(self, connection: Any) -> str:
        return connection.execute("SELECT version()").fetchone()[0].split(" on ")[0]

    def check_sql(self, sql: str) -> str:
        return check_sql(sql)

    def _quote(self, name: str) -> str:
        return pgsql.Identifier(name).as_string(None)

    def _size(self, column: str) -> str:
        return f"octet_length(CAST({column} AS {self.TEXT}))"

    def _rows(self, credentials, statement: str, timeout: int) -> list[tuple]:
        with as_application_error(), self.reading(credentials, timeout=timeout) as conn:
            return conn.execute(statement).fetchall()

    def _column_type(self, conn, column) -> str:
        info = conn.adapters.types.get(column.type_code)
        return info.name if info else str(column.type_code)

    def preview(self, credentials, sql: str, *, timeout: int, limit: int = 20) -> Preview:
        """The first rows of a model and its columns with their types.

        The query is described first; then each column travels only when its text is at
        most ``PREVIEW_CELL_BYTES``, with its size beside it, so the database, not the web
        process, holds a value that is too large. Columns are named by position, so names
        the model repeats are read as written."""
        base = self.check_sql(sql)
        with as_application_error(), self.reading(credentials, timeout=timeout) as conn:
            cursor = conn.cursor()
            cursor.execute(f"SELECT * FROM ({base}) AS model LIMIT 0")  # noqa: S608
            described = cursor.description
            names = [column[0] for column in described]
            if not limit:
                rows: list[tuple] = []
            else:
                positions = ", ".join(f"c{i}" for i in range(len(names)))
                cells = ", ".join(
                    f"CASE WHEN {self._size(f'c{i}')} <= {PREVIEW_CELL_BYTES} THEN c{i} END, "
                    f"{self._size(f'c{i}')}"
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
            columns = [
                {"name": names[i], "type": self._column_type(conn, column)}
                for i, column in enumerate(described)
            ]
        return Preview(columns=columns, rows=rows)

    def check_key(self, credentials, sql: str, key: str, *, timeout: int) -> KeyCheck:
        """Rows, empty keys (null, or text that is blank) and the first duplicated keys of
        a model."""
        quoted = self._quote(key)
        base = self.check_sql(sql)
        present = f"NULLIF(TRIM(CAST({quoted} AS {self.TEXT})), '')"
        counts = self._rows(
            credentials,
            f"SELECT count(*), count(*) - count({present}) "  # noqa: S608
            f"FROM ({base}) AS model",
            timeout,
        )
        twice = (
            f"SELECT CAST({quoted} AS {self.TEXT}), count(*) FROM ({base}) AS model "  # noqa: S608
            f"WHERE {present} IS NOT NULL GROUP BY {quoted} HAVING count(*) > 1 "
            "ORDER BY count(*) DESC LIMIT 10"
        )
        dupes = self._rows(credentials, twice, timeout)
        return KeyCheck(
            rows=counts[0][0], nulls=counts[0][1], duplicates=[(str(k), n) for k, n in dupes]
        )

    def keyed_statement(self, conn, base: str, key: str, hashed: Sequence[str]) -> str:
        """The model sorted by its key as text, byte by byte, with the server's MD5 of
        ``hashed`` after the key."""
        name = self._quote(key)
        values = ", ".join(f"s.{self._quote(c)}" for c in hashed)
        # Sorted first, hashed after: rows start flowing as soon as the sort is done.
        return (
            f'SELECT s."{KEY}", '  # noqa: S608
            f"decode(md5(CAST(ROW({values}, NULL) AS text)), 'hex') AS \"{PRINT}\", s.* "
            f'FROM (SELECT CAST(m.{name} AS text) COLLATE "C" AS "{KEY}", m.* '
            f"FROM ({base}) AS m ORDER BY 1) AS s ORDER BY 1"
        )

    def rows_out(self, rows: list[tuple]) -> list[tuple]:
        return rows

    def stream_keyed(
        self,
        credentials,
        sql: str,
        key: str,
        hashed: Sequence[str],
        *,
        timeout: int,
        batch: int = 5000,
    ) -> Iterator[tuple[int, list[tuple]]]:
        """Streamed from a server-side cursor; each row starts with the key, the
        fingerprint and the key again (``s.*``)."""
        base = self.check_sql(sql)
        with as_application_error(), self.reading(credentials, timeout=timeout) as conn:
            statement = self.keyed_statement(conn, base, key, hashed)
            cursor = conn.cursor(name="model_rows_keyed")
            cursor.itersize = batch
            cursor.execute(statement)
            while rows := cursor.fetchmany(batch):
                yield 3, self.rows_out(rows)

    # -- loading -------------------------------------------------------------------------

    @contextmanager
    def writing(self, credentials: dict[str, str]):
        """A connection as the credentials' role, checked as ``reading``'s is, in one
        transaction committed when the ``with`` ends without an error."""
        conn = _connect(self.attempts(credentials))
        try:
            with as_application_error():
                self.check_role(conn)
            psycopg.types.json.set_json_dumps(_as_is, context=conn)
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    def column_type(self, type_: str) -> str:
        return PG_TYPES[type_][0]

    def tables(self, connection: Any, schema: str) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        rows = connection.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY table_name, ordinal_position",
            [schema],
        ).fetchall()
        for table, column, native in rows:
            out.setdefault(str(table), {})[str(column)] = console_type(str(native))
        return out

    def _target(self, schema: str, name: str) -> pgsql.Composable:
        return pgsql.Identifier(schema, name)

    def _definitions(self, columns: Sequence[Column]) -> pgsql.Composable:
        return pgsql.SQL(", ").join(
            pgsql.SQL("{} {}").format(pgsql.Identifier(c.name), pgsql.SQL(self.column_type(c.type)))
            for c in columns
        )

    def ensure(self, connection: Any, table: Table) -> list[Column]:
        """Create the schema and the table (its key unique) if missing; add the columns it
        lacks."""
        target = self._target(table.schema, table.name)
        connection.execute(
            pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(table.schema))
        )
        have = {
            row[0]
            for row in connection.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s",
                [table.schema, table.name],
            )
        }
        if not have:
            connection.execute(
                pgsql.SQL("CREATE TABLE IF NOT EXISTS {} ({}, UNIQUE ({}))").format(
                    target, self._definitions(table.columns), pgsql.Identifier(table.key)
                )
            )
            return []
        added = [c for c in table.columns if c.name not in have]
        for column in added:
            connection.execute(
                pgsql.SQL("ALTER TABLE {} ADD COLUMN {}").format(
                    target, self._definitions([column])
                )
            )
        return added

    def load(self, connection: Any, table: Table, rows: Sequence[tuple]) -> int:
        """Binary COPY straight into the table when none of the batch's keys is there yet
        (a key written meanwhile by another connection sends the batch the other way);
        otherwise COPY into a temporary table and insert the new keys from it."""
        if not rows:
            return 0
        names = [c.name for c in table.columns]
        rows = _once(rows, names.index(table.key))
        target = self._target(table.schema, table.name)
        key = pgsql.Identifier(table.key)
        keys = [row[names.index(table.key)] for row in rows]
        loaded = connection.execute(
            pgsql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {} = ANY(%s))").format(target, key),
            [keys],
        ).fetchone()[0]
        if not loaded:
            try:
                with connection.transaction():  # a savepoint
                    self._copy(connection, target, table.columns, rows)
                return len(rows)
            except psycopg.errors.UniqueViolation:
                pass
        staging = pgsql.Identifier(STAGING)
        connection.execute(pgsql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(staging))
        connection.execute(
            pgsql.SQL("CREATE TEMPORARY TABLE {} ({}) ON COMMIT DROP").format(
                staging, self._definitions(table.columns)
            )
        )
        self._copy(connection, staging, table.columns, rows)
        return self._insert_new(connection, table, target, staging)

    def _copy(self, connection, target, columns: Sequence[Column], rows) -> None:
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            target, pgsql.SQL(", ").join(pgsql.Identifier(c.name) for c in columns)
        )
        with connection.cursor().copy(statement) as copy:
            copy.set_types([PG_TYPES[c.type][1] for c in columns])
            for row in rows:
                copy.write_row(row)

    def _insert_new(self, connection, table: Table, target, staging) -> int:
        """Insert the rows of ``staging`` whose key ``target`` does not hold; how many."""
        names = pgsql.SQL(", ").join(pgsql.Identifier(c.name) for c in table.columns)
        key = pgsql.Identifier(table.key)
        cursor = connection.execute(
            pgsql.SQL(
                "INSERT INTO {target} ({names}) SELECT {names} FROM {staging} s "
                "WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE t.{key} = s.{key})"
            ).format(target=target, names=names, staging=staging, key=key)
        )
        return max(cursor.rowcount, 0)

    def delete(
        self, connection: Any, table: str, schema: str, column: str, values: Sequence[str]
    ) -> int:
        target, name = self._target(schema, table), pgsql.Identifier(column)
        deleted = 0
        for start in range(0, len(values), DELETE_CHUNK):
            chunk = [str(v) for v in values[start : start + DELETE_CHUNK]]
            cursor = connection.execute(
                pgsql.SQL("DELETE FROM {} WHERE {} IN ({})").format(
                    target, name, pgsql.SQL(", ").join([pgsql.Placeholder()] * len(chunk))
                ),
                chunk,
            )
            deleted += max(cursor.rowcount, 0)
        return deleted

    def clear(self, connection: Any, table: str, schema: str) -> int:
        cursor = connection.execute(pgsql.SQL("DELETE FROM {}").format(self._target(schema, table)))
        return max(cursor.rowcount, 0)


class ConsoleEngine(PostgresEngine):
    """The console's own database, read through the activation views only: as the
    activation role on PostgreSQL, through a read-only connection and an authorizer on
    SQLite (the embedded mode). It needs no credentials."""

    kind: ClassVar[str] = "console"
    label: ClassVar[str] = "The console's own database"

    fields: ClassVar[tuple[CredentialField, ...]] = ()

    def clean(self, given: dict[str, str], previous: dict[str, str] | None = None) -> Cleaned:
        return Cleaned(credentials={}, display="the console's database")

    def endpoints(self, credentials: dict[str, str]) -> list[tuple[str, int]]:
        return []  # the console's own database, configured by its operator

    def attempts(self, credentials: dict[str, str]) -> list[dict[str, str]]:
        return [activation_params()]

    @contextmanager
    def reading(self, credentials: dict[str, str], *, timeout: int):
        if not _sqlite():
            with super().reading(credentials, timeout=timeout) as conn:
                yield conn
            return
        path = settings.DATABASES["default"]["NAME"]
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            activation.sqlite_prepare(conn)
            yield conn
        finally:
            conn.close()

    def writing(self, credentials: dict[str, str]):
        raise NotImplementedError(f"{self.label} takes no loads")

    def prepare(self, conn: psycopg.Connection, timeout: int) -> None:
        super().prepare(conn, timeout)
        conn.execute("SET LOCAL search_path = activation")

    def version(self, connection: Any) -> str:
        if isinstance(connection, sqlite3.Connection):
            return f"SQLite {sqlite3.sqlite_version} (read-only)"
        return super().version(connection)

    def check_sql(self, sql: str) -> str:
        """One read query that reads only the activation views (on SQLite: their TEMP
        views)."""
        text = check_sql(sql)
        activation.check_tables(text)
        return activation.for_sqlite(text) if _sqlite() else text

    def _quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"' if _sqlite() else super()._quote(name)

    def _size(self, column: str) -> str:
        return f"length(CAST({column} AS BLOB))" if _sqlite() else super()._size(column)

    def _column_type(self, conn, column) -> str:
        if not isinstance(conn, sqlite3.Connection):
            return super()._column_type(conn, column)
        return ""  # filled from the rows by ``preview``

    def preview(self, credentials, sql: str, *, timeout: int, limit: int = 20) -> Preview:
        shown = super().preview(credentials, sql, timeout=timeout, limit=limit)
        if not _sqlite():
            return shown
        columns = []
        for i, column in enumerate(shown.columns):
            sample = next((r[i] for r in shown.rows if r[i] is not None), None)
            kind = type(sample).__name__ if sample is not None else "unknown"
            columns.append({**column, "type": kind})
        return Preview(columns=columns, rows=shown.rows)

    def stream_keyed(
        self,
        credentials,
        sql: str,
        key: str,
        hashed: Sequence[str],
        *,
        timeout: int,
        batch: int = 5000,
    ) -> Iterator[tuple[int, list[tuple]]]:
        """On SQLite each row starts with the key only: the run hashes."""
        if not _sqlite():
            yield from super().stream_keyed(
                credentials, sql, key, hashed, timeout=timeout, batch=batch
            )
            return
        base = self.check_sql(sql)
        statement = (
            f'SELECT CAST(m.{self._quote(key)} AS TEXT) AS "{KEY}", m.* '  # noqa: S608
            f"FROM ({base}) AS m ORDER BY 1"
        )
        with as_application_error(), self.reading(credentials, timeout=timeout) as conn:
            cursor = conn.execute(statement)
            while rows := cursor.fetchmany(batch):
                yield 1, rows


# psycopg's OID of boolean, as Redshift reports it too.
_BOOLEAN = 16


class RedshiftEngine(PostgresEngine):
    """Amazon Redshift over PostgreSQL's wire protocol (see the module's notes for what it
    does differently)."""

    kind: ClassVar[str] = "redshift"
    label: ClassVar[str] = "Amazon Redshift"
    dialect: ClassVar[str] = "redshift"
    default_port: ClassVar[int] = 5439
    fields: ClassVar[tuple[CredentialField, ...]] = (
        _dsn_field(
            "postgresql://reader:…@examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com"
            ":5439/dev"
        ),
    )
    TEXT: ClassVar[str] = "VARCHAR(65535)"

    def prepare(self, conn: psycopg.Connection, timeout: int) -> None:
        conn.read_only = True  # psycopg opens the transaction with BEGIN READ ONLY
        conn.execute(
            pgsql.SQL("SET statement_timeout = {}").format(pgsql.Literal(int(timeout) * 1000))
        )

    def check_role(self, conn: psycopg.Connection) -> None:
        row = conn.execute(
            "SELECT CAST(usename AS VARCHAR(128)), usesuper FROM pg_user "
            "WHERE usename = current_user"
        ).fetchone()
        if row is None:
            raise _nameless()
        if row[1]:
            raise _too_powerful(row[0], "a superuser")

    def version(self, connection: Any) -> str:
        text = connection.execute("SELECT version()").fetchone()[0]
        _, redshift, rest = text.rpartition("Redshift ")
        return f"Amazon Redshift {rest.strip()}" if redshift else text.split(" on ")[0]

    def _as_text(self, column: str, boolean: bool) -> str:
        if boolean:
            return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
        return f"CAST({column} AS {self.TEXT})"

    def keyed_statement(self, conn, base: str, key: str, hashed: Sequence[str]) -> str:
        """The model sorted by its key as text, with the MD5 (hex) of ``hashed`` written
        one after the other, each as its length and text, ``n`` when null."""
        cursor = conn.execute(f"SELECT * FROM ({base}) AS model LIMIT 0")  # noqa: S608
        types = {}
        for column in cursor.description:
            types.setdefault(column.name, column.type_code)
        parts = []
        for name in hashed:
            text = self._as_text(f"s.{self._quote(name)}", types.get(name) == _BOOLEAN)
            parts.append(
                f"CASE WHEN {text} IS NULL THEN 'n' ELSE "
                f"CAST(octet_length({text}) AS VARCHAR(12)) || ':' || {text} END"
            )
        joined = " || '|' || ".join(parts) or "''"
        return (
            f'SELECT s."{KEY}", md5({joined}) AS "{PRINT}", s.* '  # noqa: S608
            f'FROM (SELECT CAST(m.{self._quote(key)} AS {self.TEXT}) AS "{KEY}", m.* '
            f"FROM ({base}) AS m ORDER BY 1) AS s ORDER BY 1"
        )

    def rows_out(self, rows: list[tuple]) -> list[tuple]:
        """The hex digest as the 16 bytes the run compares."""
        return [(row[0], bytes.fromhex(row[1]), *row[2:]) for row in rows]

    def column_type(self, type_: str) -> str:
        return REDSHIFT_TYPES.get(type_) or super().column_type(type_)

    def load(self, connection: Any, table: Table, rows: Sequence[tuple]) -> int:
        """Staged by multi-row INSERTs into a temporary table (Redshift's COPY does not
        read from the connection), then the new keys inserted from there."""
        if not rows:
            return 0
        names = [c.name for c in table.columns]
        rows = _once(rows, names.index(table.key))
        staging = pgsql.Identifier(STAGING)
        connection.execute(pgsql.SQL("DROP TABLE IF EXISTS {}").format(staging))
        connection.execute(
            pgsql.SQL("CREATE TEMPORARY TABLE {} ({})").format(
                staging, self._definitions(table.columns)
            )
        )
        one = pgsql.SQL("({})").format(pgsql.SQL(", ").join([pgsql.Placeholder()] * len(names)))
        columns = pgsql.SQL(", ").join(pgsql.Identifier(n) for n in names)
        for start in range(0, len(rows), INSERT_ROWS):
            chunk = rows[start : start + INSERT_ROWS]
            connection.execute(
                pgsql.SQL("INSERT INTO {} ({}) VALUES {}").format(
                    staging, columns, pgsql.SQL(", ").join([one] * len(chunk))
                ),
                [value for row in chunk for value in row],
            )
        written = self._insert_new(
            connection, table, self._target(table.schema, table.name), staging
        )
        connection.execute(pgsql.SQL("DROP TABLE {}").format(staging))
        return written


# Redshift's types where they are not PostgreSQL's: its ``text`` is VARCHAR(256), and JSON
# is kept as its text.
REDSHIFT_TYPES = {
    "string": "VARCHAR(65535)",
    "json": "VARCHAR(65535)",
    "timestamp": "TIMESTAMPTZ",
}


ENGINE = PostgresEngine()
ENGINES = {engine.kind: engine for engine in (ConsoleEngine(), ENGINE, RedshiftEngine())}
