"""One interface to every warehouse a company runs: what a connection asks for, how it is
checked, and what the console does with it (read a model, load a batch, delete a person).

Each kind of warehouse is one ``Engine`` in this package, registered under its kind
(``engines.engine_for(kind)``), talking through its vendor's own Python connector. The
statements are written once, as sqlglot trees in PostgreSQL's dialect, and transpiled to the
engine's ``dialect``: the read-only guard, the key-ordered fingerprint query, the loads and
the deletes are the same SQL everywhere.

Credentials are a dict of the engine's ``fields``, stored encrypted like a destination's;
``clean`` checks them when they are saved (every host against the egress policy) and
``endpoints`` names where a connection will go, checked again at connect.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class CredentialField:
    """One thing a connection asks for, as the form and the API show it."""

    name: str
    label: str
    secret: bool = False  # write-only: stored encrypted, never shown again, kept when left blank
    required: bool = True
    multiline: bool = False  # a private key, a service-account JSON document
    help: str = ""
    initial: str = ""


@dataclass(frozen=True)
class Cleaned:
    """Credentials as they are stored, and the one line shown in their place (host, account,
    project, database and user: never a secret)."""

    credentials: dict[str, str]
    display: str


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


# The types a loaded column may have, as the console names them; each engine maps them to
# its own (``Engine.column_type``).
COLUMN_TYPES = ("string", "integer", "float", "boolean", "timestamp", "json")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # one of COLUMN_TYPES


@dataclass(frozen=True)
class Table:
    """A table the console loads: its schema (dataset, database), name, columns and the
    column that makes a row unique (``message_id`` for events), by which loads are
    idempotent."""

    schema: str
    name: str
    columns: tuple[Column, ...]
    key: str


@dataclass
class Loaded:
    """What one load did to one table: rows written, columns added."""

    table: str
    rows: int = 0
    added: list[Column] = field(default_factory=list)


class Engine(abc.ABC):
    """A kind of warehouse. Stateless: every method takes the credentials (decrypted) and
    settings it needs; connections are opened and closed within a call or a ``with``."""

    kind: ClassVar[str]  # stored in Warehouse.kind
    label: ClassVar[str]  # "Snowflake"
    dialect: ClassVar[str]  # sqlglot's name for its SQL
    fields: ClassVar[tuple[CredentialField, ...]]

    # -- credentials ---------------------------------------------------------------------

    @abc.abstractmethod
    def clean(self, given: dict[str, str], previous: dict[str, str] | None = None) -> Cleaned:
        """Check what a person entered (a secret left blank keeps ``previous``'s) and return
        it as stored. Raise ``ApplicationError`` (status 400, a code of ``SyncsErrorCode``,
        ``field`` naming the field at fault where there is one) for anything wrong,
        including a host the egress policy refuses. Never repeat a secret in a message."""

    @abc.abstractmethod
    def endpoints(self, credentials: dict[str, str]) -> list[tuple[str, int]]:
        """Every (host, port) a connection with these credentials reaches: each is checked
        against the egress policy before connecting, and the connection is pinned to the
        addresses allowed where the connector lets it."""

    # -- reading (reverse ETL) -----------------------------------------------------------

    @abc.abstractmethod
    def reading(self, credentials: dict[str, str], *, timeout: int) -> AbstractContextManager[Any]:
        """A DB-API connection that may only read, each statement limited to ``timeout``
        seconds (by the server where it can, else by the client cancelling it). Failures to
        connect raise ``ApplicationError`` (``warehouse_unreachable``) with the reason and
        no secret."""

    @abc.abstractmethod
    def version(self, connection: Any) -> str:
        """One line naming the server, for the connection test."""

    @abc.abstractmethod
    def check_sql(self, sql: str) -> str:
        """The model's SQL as this warehouse runs it: one read query in its dialect, or
        ``ApplicationError`` (``invalid_sql``) saying why not."""

    @abc.abstractmethod
    def preview(self, credentials, sql: str, *, timeout: int, limit: int = 20) -> Preview: ...

    @abc.abstractmethod
    def check_key(self, credentials, sql: str, key: str, *, timeout: int) -> KeyCheck: ...

    @abc.abstractmethod
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
        """The model's rows in key order (the key as text, compared byte by byte) as
        ``(extra, rows)``: each row starts with ``extra`` columns, the key as text and, where
        the warehouse hashes (``extra`` >= 2), the fingerprint of ``hashed``'s values as
        bytes; then the model's columns. Streamed: memory stays bounded whatever the model's
        size."""

    # -- loading (events, published tables) and erasure ---------------------------------

    def writing(self, credentials: dict[str, str]) -> AbstractContextManager[Any]:
        """A connection that may create, widen and write the console's own tables."""
        raise NotImplementedError(f"{self.label} does not load yet")

    @contextmanager
    def loading(
        self, credentials: dict[str, str]
    ) -> Iterator[Callable[[], AbstractContextManager[Any]]]:
        """What a load of many batches writes through: a function giving, for each batch, a
        connection as ``writing`` gives one, in a transaction of the batch's own, committed
        when its ``with`` ends without an error. By default each batch connects anew; an
        engine whose connections are dear to open keeps one for the whole load."""
        yield lambda: self.writing(credentials)

    def column_type(self, type_: str) -> str:
        """This warehouse's type for one of ``COLUMN_TYPES``."""
        raise NotImplementedError(f"{self.label} does not load yet")

    def tables(self, connection: Any, schema: str) -> dict[str, dict[str, str]]:
        """The columns of every table in ``schema`` (table -> column -> one of
        ``COLUMN_TYPES``, read back from the warehouse's own types); {} when the schema does
        not exist."""
        raise NotImplementedError(f"{self.label} does not load yet")

    def ensure(self, connection: Any, table: Table) -> list[Column]:
        """Create ``table`` (and its schema) if missing; add the columns it lacks, never
        dropping one. Returns the columns added."""
        raise NotImplementedError(f"{self.label} does not load yet")

    def load(self, connection: Any, table: Table, rows: Sequence[tuple]) -> int:
        """Write ``rows`` (values in ``table.columns`` order) in bulk (stage and COPY, a load
        job or a MERGE; never a statement per row), idempotent by ``table.key``: a key
        already loaded is not loaded twice. Returns the rows written."""
        raise NotImplementedError(f"{self.label} does not load yet")

    def delete(
        self, connection: Any, table: str, schema: str, column: str, values: Sequence[str]
    ) -> int:
        """Delete the rows of ``schema.table`` whose ``column`` is one of ``values``; the
        number deleted."""
        raise NotImplementedError(f"{self.label} does not delete yet")

    def clear(self, connection: Any, table: str, schema: str) -> int:
        """Delete every row of ``schema.table``; the number deleted. Within ``writing``, so a
        table emptied and loaded again in one transaction is replaced at once."""
        raise NotImplementedError(f"{self.label} does not delete yet")
