"""DuckDB files and MotherDuck databases as warehouses, through the ``duckdb`` connector.

Where the database is: ``path`` names a DuckDB file, relative to
``MARTECH_VAR_DIR/warehouses/`` or absolute inside one of the directories
``MARTECH_DUCKDB_DIRECTORIES`` lists (never a system directory, a home directory, the rest of
``MARTECH_VAR_DIR``, or a path through ``..`` or a symbolic link leading elsewhere); or
``md:<database>`` with a MotherDuck token (secret), reaching MotherDuck's service, which the
egress policy checks; MotherDuck's extension must be installed on the console's host
(``INSTALL motherduck`` once): it is never downloaded on demand.

What DuckDB cannot do: it has no roles and no per-statement timeout. A model's SQL is held
by the guard (``SqlEngine.check_sql``) and by the connection: the file is opened read-only,
with access to files, URLs and other databases off (``enable_external_access``), extensions
neither installed nor loaded on demand, and the configuration locked so no statement can
turn any of it back on. MotherDuck connections run in its SaaS mode (no local files, no
extensions). A statement's time is limited by a timer that interrupts the connection.

A DuckDB file has one writer at a time and, while it has one, no reader from another
process: reading a file that a load (or another program) is writing is refused at once with
``warehouse_busy``, never a wait. Loads append through DuckDB's appender into a temporary
table, then insert the rows whose key is new (``SqlEngine.insert_new``).
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from sqlglot import exp

from apps.syncs.errors import SyncsErrorCode
from martech.common import egress
from martech.common.errors import ApplicationError

from .base import Cleaned, CredentialField, Table
from .sqlengine import SqlEngine

MOTHERDUCK_HOST = "api.motherduck.com"
# A MotherDuck database name: nothing that could add an option to the connection string.
_MOTHERDUCK_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# No database file lives in these, whatever the settings allow.
_SYSTEM_DIRECTORIES = tuple(
    Path(p)
    for p in (
        "/etc",
        "/proc",
        "/sys",
        "/dev",
        "/boot",
        "/root",
        "/bin",
        "/sbin",
        "/usr",
        "/lib",
        "/run",
        "/var/run",
    )
)
# What a connection to a file may not do (reach other files, URLs, databases or
# extensions); locked once the connection is set up, so no statement turns it back on.
_LOCKED_DOWN = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}
# The name a load's batch has while DuckDB reads it.
_BATCH = "__martech_batch"
_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
    "json": "JSON",
}


def _refuse(message: str, field: str = "path") -> ApplicationError:
    return ApplicationError(
        message, code=SyncsErrorCode.INVALID_CREDENTIALS, details={"field": field}
    )


def warehouses_directory() -> Path:
    return Path(settings.VAR_DIR) / "warehouses"


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def database_file(given: str) -> Path:
    """The file ``given`` names, resolved, if a warehouse may use it; else 400."""
    if not given or "\x00" in given:
        raise _refuse("Give the database file's path.")
    if given.startswith("~"):
        raise _refuse("A home directory (~) cannot hold a warehouse file; give a full path.")
    if ".." in Path(given).parts:
        raise _refuse("A path may not go up a directory (..).")
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", given) or given.startswith(":"):
        raise _refuse(
            "Give a database file's path, or md:<database> for MotherDuck; other kinds of "
            "location are not supported."
        )
    home = warehouses_directory().resolve()
    if not Path(given).is_absolute():
        path = (home / given).resolve()
        if not _inside(path, home) or path == home:
            raise _refuse(f"A relative path names a file under {home}.")
        return path
    path = Path(given).resolve()
    var = Path(settings.VAR_DIR).resolve()
    allowed = [Path(d).resolve() for d in settings.MARTECH_DUCKDB_DIRECTORIES]
    if _inside(path, home) and path != home:
        return path
    inside_allowed = any(_inside(path, d) and path != d for d in allowed)
    if (
        not inside_allowed
        or any(_inside(path, d) for d in _SYSTEM_DIRECTORIES)
        or _inside(path, var)
    ):
        raise _refuse(
            f"{given} is not in a directory warehouse files may be read from: use a path "
            f"relative to {home}, or one under MARTECH_DUCKDB_DIRECTORIES."
        )
    return path


def _motherduck(given: str) -> str:
    name = given[len("md:") :]
    if name and not _MOTHERDUCK_NAME.fullmatch(name):
        raise _refuse("A MotherDuck database is md:<name>: letters, digits and _ only.")
    return name


class DuckDBEngine(SqlEngine):
    kind = "duckdb"
    label = "DuckDB / MotherDuck"
    dialect = "duckdb"
    fields = (
        CredentialField(
            "path",
            "Database",
            help="A DuckDB file (relative to the console's warehouses folder, or a full path "
            "in a folder the console allows), or md:<database> for MotherDuck.",
        ),
        CredentialField(
            "token",
            "MotherDuck token",
            secret=True,
            required=False,
            help="Only for md: databases.",
        ),
    )
    system_prefixes = ("pg_", "sqlite_", "duckdb_", "pragma_")
    functions = frozenset({"columns"})

    # -- credentials --------------------------------------------------------------------

    def clean(self, given: dict[str, str], previous: dict[str, str] | None = None) -> Cleaned:
        path = (given.get("path") or "").strip()
        token = (given.get("token") or "").strip() or (previous or {}).get("token", "")
        if path.startswith("md:"):
            name = _motherduck(path)
            if not token:
                raise _refuse("A MotherDuck database needs its token.", "token")
            egress.check_host(MOTHERDUCK_HOST, resolve_name=False)
            return Cleaned({"path": f"md:{name}", "token": token}, f"MotherDuck md:{name}")
        database_file(path)
        return Cleaned({"path": path, "token": ""}, f"DuckDB {path}")

    def endpoints(self, credentials: dict[str, str]) -> list[tuple[str, int]]:
        if credentials.get("path", "").startswith("md:"):
            return [(MOTHERDUCK_HOST, 443)]
        return []

    # -- connections --------------------------------------------------------------------

    def _target(self, credentials: dict[str, str], *, read_only: bool) -> tuple[str, dict]:
        """What ``duckdb.connect`` opens, and its configuration."""
        given = credentials.get("path", "")
        if given.startswith("md:"):
            name = _motherduck(given)
            for host, _port in self.endpoints(credentials):
                egress.resolve(host)
            # SaaS mode: no local files, no extensions. MotherDuck's extension is loaded from
            # this host's extension folder, never downloaded: MotherDuck is the only host.
            return f"md:{name}?saas_mode=true", {
                "motherduck_token": credentials.get("token", ""),
                "autoinstall_known_extensions": False,
                "allow_community_extensions": False,
            }
        path = database_file(given)
        if read_only and not path.is_file():
            raise ApplicationError(
                f"There is no DuckDB database file at {given}.",
                code=SyncsErrorCode.WAREHOUSE_UNREACHABLE,
                status=400,
            )
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        # Loads too: a load reads nothing but the batch it is handed.
        return str(path), {**_LOCKED_DOWN, "memory_limit": settings.MARTECH_DUCKDB_MEMORY_LIMIT}

    def _open(self, credentials: dict[str, str], *, read_only: bool):
        import duckdb

        target, config = self._target(credentials, read_only=read_only)
        # A second connection to a file this process has open joins the same database
        # instance, already set up and locked.
        with _SETUP:
            try:
                connection = duckdb.connect(target, read_only=read_only, config=config)
            except duckdb.Error as exc:
                raise self._unopened(exc, credentials) from None
            if not target.startswith("md:"):
                _lock_down(connection)
        return connection

    def _unopened(self, error: BaseException, credentials: dict[str, str]) -> ApplicationError:
        reason = self.reason(error, credentials)
        if "lock" in reason.lower() or "different configuration" in reason:
            return ApplicationError(
                "The DuckDB file is in use by another writer (a load, or another program); "
                "try again when it is done.",
                code=SyncsErrorCode.WAREHOUSE_BUSY,
                status=400,
            )
        return ApplicationError(
            f"Cannot open the DuckDB database: {reason}",
            code=SyncsErrorCode.WAREHOUSE_UNREACHABLE,
            status=400,
        )

    @contextmanager
    def reading(self, credentials: dict[str, str], *, timeout: int) -> Iterator[_Reading]:
        connection = self._open(credentials, read_only=True)
        try:
            yield _Reading(connection, timeout)
        finally:
            connection.close()

    @contextmanager
    def writing(self, credentials: dict[str, str]):
        connection = self._open(credentials, read_only=False)
        try:
            with _transaction(connection) as writing:
                yield writing
        finally:
            connection.close()

    @contextmanager
    def loading(self, credentials: dict[str, str]):
        """One connection for the whole load, a transaction per batch: opening a DuckDB file
        (and closing it, which checkpoints its log) costs more than writing a batch. The file
        stays held by the load until it ends."""
        connection = self._open(credentials, read_only=False)
        try:
            yield lambda: _transaction(connection)
        finally:
            connection.close()

    def version(self, connection: Any) -> str:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT version()")
            return f"DuckDB {cursor.fetchone()[0]}"
        finally:
            cursor.close()

    def query_errors(self) -> tuple[type[BaseException], ...]:
        import duckdb

        return (duckdb.Error,)

    def reason(self, error: BaseException, credentials: dict[str, str] | None) -> str:
        import duckdb

        if isinstance(error, duckdb.InterruptException):
            return "it ran longer than the warehouse's statement timeout allows"
        return super().reason(error, credentials)

    # -- SQL ----------------------------------------------------------------------------

    def text_size(self, expression: exp.Expression) -> exp.Expression:
        return exp.func("STRLEN", expression)

    # -- loading ------------------------------------------------------------------------

    def column_type(self, type_: str) -> str:
        return _TYPES[type_]

    def load(self, connection: Any, table: Table, rows: Sequence[tuple]) -> int:
        """Hand the batch to DuckDB as one frame of Python values (``object`` columns, so no
        number loses a digit on the way) and insert the rows whose key is new in one
        statement, each column cast to its type. Measured on 200,000 ten-column events into
        a table of a million: 0.8 s, against 2.2 s through the appender and a temporary table
        and 1.6 s for the appender alone, which is not idempotent."""
        if not rows:
            return 0
        import pandas

        names = [c.name for c in table.columns]
        frame = pandas.DataFrame(list(rows), columns=names, dtype=object)
        connection.register(_BATCH, frame)
        # Not unregistered when the insert fails: in the aborted transaction, that would fail
        # too and hide why (the connection goes with the failed load).
        written = self.insert_new(connection, table, self._insert_sql(table))
        connection.unregister(_BATCH)
        return written

    @functools.lru_cache(maxsize=256)  # noqa: B019 - the engine is one for the process
    def _insert_sql(self, table: Table) -> str:
        """The statement inserting a batch's new keys into ``table`` (the same for every
        batch with the same columns)."""
        typed = exp.select(
            *[
                exp.alias_(
                    exp.cast(
                        exp.column(c.name, quoted=True),
                        exp.DataType.build(self.column_type(c.type), dialect="duckdb"),
                    ),
                    c.name,
                    quoted=True,
                )
                for c in table.columns
            ]
        ).from_(_BATCH)
        return self.insert_new_sql(table, typed.subquery("b"))


_SETUP = threading.Lock()


@contextmanager
def _transaction(connection) -> Iterator[_Writing]:
    """``connection`` in a transaction, committed when the ``with`` ends without an error."""
    connection.begin()
    try:
        yield _Writing(connection)
    except BaseException:
        connection.rollback()
        raise
    connection.commit()


def _lock_down(connection) -> None:
    """Read timestamps with a time zone (and hash them) as text in UTC whatever the host's
    zone, then lock the configuration; every cursor shares both. Once per database
    instance: a connection joining one already locked finds it so."""
    import duckdb

    locked = connection.execute("SELECT current_setting('lock_configuration')").fetchone()[0]
    if locked:
        return
    with contextlib.suppress(duckdb.Error):  # without ICU, DuckDB's zone is UTC already
        connection.execute("SET GLOBAL TimeZone = 'UTC'")
    connection.execute("SET lock_configuration = true")


class _Writing:
    """The writing connection, whose cursors are itself: a DuckDB cursor is a connection of
    its own, outside the load's transaction and blind to its temporary tables."""

    def __init__(self, connection):
        self._connection = connection

    def __getattr__(self, name: str):
        return getattr(self._connection, name)

    def cursor(self) -> _Writing:
        return self

    def close(self) -> None:
        """The connection is closed by ``writing`` when the load ends."""


class _Reading:
    """A read-only DuckDB connection as the engine uses it: each cursor's calls limited to
    the statement timeout by a timer that interrupts it."""

    def __init__(self, connection, timeout: int):
        self._connection = connection
        self._timeout = timeout

    def cursor(self) -> _TimedCursor:
        return _TimedCursor(self._connection.cursor(), self._timeout)


class _TimedCursor:
    """A DB-API cursor whose every execute and fetch is interrupted after ``timeout``
    seconds (a DuckDB cursor is a connection of its own, interrupted on its own)."""

    def __init__(self, cursor, timeout: int):
        self._cursor = cursor
        self._timeout = timeout

    @contextmanager
    def _limited(self):
        timer = threading.Timer(self._timeout, self._cursor.interrupt)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def execute(self, statement: str, parameters: Sequence | None = None) -> _TimedCursor:
        with self._limited():
            self._cursor.execute(statement, parameters)
        return self

    def fetchone(self):
        with self._limited():
            return self._cursor.fetchone()

    def fetchmany(self, size: int = 1):
        with self._limited():
            return self._cursor.fetchmany(size)

    def fetchall(self):
        with self._limited():
            return self._cursor.fetchall()

    def close(self) -> None:
        self._cursor.close()


ENGINE = DuckDBEngine()
