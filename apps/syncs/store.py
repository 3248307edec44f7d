"""The sync rows (``syncs_syncrow``): what a destination last acknowledged, by model key.

The one module that reads and writes the table in SQL, on both engines. Rows go in and come
out as named types: ``StatePage`` (a page of ``RowState`` s as named columns), ``Failure``,
and anything with ``key``, ``subject`` and ``fingerprint`` for an acknowledgement. Every
statement is built from those names, so a column is added in one place and no caller
depends on an order of columns.

Reading is a scan in key order a page at a time, for a merge with a model read in the same
order (``apps.syncs.engine.run``):

- on PostgreSQL outside a transaction, through a connection of its own, read ahead on a
  helper thread (what the run writes through the main connection is committed as it goes);
- on PostgreSQL inside a transaction, one ordered scan on the same connection, held across
  the statements the run makes, so it also sees what the transaction wrote;
- on SQLite, keyset pages (``key > last``) on the one connection.

Writing is an upsert per batch on ``(sync, key)``: one statement over arrays on PostgreSQL,
``bulk_create(update_conflicts=…)`` elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from operator import itemgetter
from typing import NamedTuple, Protocol

from django.db import connection

from martech.common.pgcopy import execute_arrays

from .engine.prefetch import Prefetch
from .models import SyncRow

ERROR_CHARS = 2000  # what is kept of an error message


class RowState(NamedTuple):
    """One key's state, as the merge reads it."""

    key: str
    fingerprint: bytes | None  # of the values last acknowledged; None if never
    acknowledged: bool  # the destination holds this key (a removal must reach it)
    failed: bool  # the last attempt failed: the row goes again
    subject: str  # "type:value", normalised


@dataclass(frozen=True, slots=True)
class StatePage:
    """Consecutive rows of state as named columns: index ``i`` of every column is one key's
    state. A merge reads the columns it needs without building an object per row."""

    key: Sequence[str]
    fingerprint: Sequence[bytes | None]
    acknowledged: Sequence[bool]
    failed: Sequence[bool]
    subject: Sequence[str]

    def __len__(self) -> int:
        return len(self.key)

    def row(self, i: int) -> RowState:
        return RowState(**{name: getattr(self, name)[i] for name in RowState._fields})

    def rows(self) -> list[RowState]:
        return [self.row(i) for i in range(len(self))]


_PAGE_FIELDS = tuple(f.name for f in fields(StatePage))


# Each field's place in a fetched row: the SELECT lists the fields in ``_PAGE_FIELDS`` order.
_TAKE = {name: itemgetter(at) for at, name in enumerate(_PAGE_FIELDS)}


def _page(rows: list[tuple]) -> StatePage:
    """The fetched rows as named columns: one list per field, no object per row (in a
    process with a large heap, ``zip(*rows)``'s ten thousand iterators cost ten times more)."""
    return StatePage(**{name: list(map(take, rows)) for name, take in _TAKE.items()})


class Sent(Protocol):
    """A row the destination acknowledged."""

    key: str
    subject: str
    fingerprint: bytes


class Failure(NamedTuple):
    """A row the destination refused (or that could not be sent)."""

    key: str
    subject: str
    error: str


# Each field of ``RowState`` as an expression on the table, by name.
_STATE_EXPRESSIONS = {
    "key": "key",
    "fingerprint": "fingerprint",
    "acknowledged": "synced_at IS NOT NULL",
    "failed": "error <> ''",
    "subject": "subject",
}
_STATE_SELECT = ", ".join(f"{_STATE_EXPRESSIONS[f]} AS {f}" for f in _PAGE_FIELDS)
_STATE_SQL = f"SELECT {_STATE_SELECT} FROM syncs_syncrow WHERE sync_id = %s"  # noqa: S608


def state_pages(sync_id: int, *, size: int = 10_000) -> Iterator[StatePage]:
    """The sync's rows in key order (byte order: the column's collation is "C"), ``size``
    at a time. The iterator has ``close()``; call it when the merge stops early."""
    if connection.vendor != "postgresql":
        return _keyset_pages(sync_id, size)
    if not connection.in_atomic_block:
        return _Paged(Prefetch(_own_connection_rows(sync_id, size), name="sync-state-reader"))
    return _held_pages(sync_id, size)


class _Paged:
    """Rows read ahead, made into pages here: the helper thread only fetches (it holds the
    interpreter as briefly as it can, while the run also waits on sockets)."""

    def __init__(self, rows: Prefetch):
        self._rows = rows

    def __iter__(self):
        return self

    def __next__(self) -> StatePage:
        return _page(next(self._rows))

    def close(self) -> None:
        self._rows.close()


def _own_connection_rows(sync_id: int, size: int) -> Iterator[list[tuple]]:
    """Read on a helper thread while the run writes through the main connection."""
    import psycopg

    from .warehouses.postgres import console_conninfo

    with psycopg.connect(console_conninfo()) as conn:
        cursor = conn.cursor(name=f"sync_state_{sync_id}")
        cursor.itersize = size
        cursor.execute(f"{_STATE_SQL} ORDER BY key", [sync_id])
        while rows := cursor.fetchmany(size):
            yield rows


def _held_pages(sync_id: int, size: int) -> Iterator[StatePage]:
    connection.ensure_connection()
    cursor = connection.connection.cursor(name=f"sync_state_{sync_id}", withhold=True)
    cursor.itersize = size
    try:
        cursor.execute(f"{_STATE_SQL} ORDER BY key", [sync_id])
        while page := cursor.fetchmany(size):
            yield _page(page)
    finally:
        cursor.close()


def _keyset_pages(sync_id: int, size: int) -> Iterator[StatePage]:
    after = None
    while True:
        with connection.cursor() as cursor:
            if after is None:
                cursor.execute(f"{_STATE_SQL} ORDER BY key LIMIT %s", [sync_id, size])
            else:
                cursor.execute(
                    f"{_STATE_SQL} AND key > %s ORDER BY key LIMIT %s", [sync_id, after, size]
                )
            rows = cursor.fetchall()
        if not rows:
            return
        page = _page(rows)
        after = page.key[-1]
        yield page


# Upserts over whole columns bound by name (``%(name)b``): one statement per batch.
_ACKNOWLEDGE = """
INSERT INTO syncs_syncrow (sync_id, key, subject, fingerprint, synced_at, error, failed_at)
SELECT %(sync_id)b, v.key, v.subject, v.fingerprint, %(at)b, '', NULL
FROM unnest(%(key)b::text[], %(subject)b::text[], %(fingerprint)b::bytea[])
    AS v(key, subject, fingerprint)
ON CONFLICT (sync_id, key) DO UPDATE SET subject = EXCLUDED.subject,
    fingerprint = EXCLUDED.fingerprint, synced_at = EXCLUDED.synced_at, error = '',
    failed_at = NULL
"""
_FAIL = """
INSERT INTO syncs_syncrow (sync_id, key, subject, fingerprint, synced_at, error, failed_at)
SELECT %(sync_id)b, v.key, v.subject, NULL, NULL, v.error, %(at)b
FROM unnest(%(key)b::text[], %(subject)b::text[], %(error)b::text[]) AS v(key, subject, error)
ON CONFLICT (sync_id, key) DO UPDATE SET error = EXCLUDED.error, failed_at = EXCLUDED.failed_at
"""


def acknowledge(sync_id: int, rows: Sequence[Sent], *, at: dt.datetime) -> None:
    """Record that the destination holds ``rows`` as sent (their fingerprints), at ``at``;
    any error of an earlier attempt is cleared."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        execute_arrays(
            _ACKNOWLEDGE,
            {
                "sync_id": sync_id,
                "at": at,
                "key": [r.key for r in rows],
                "subject": [r.subject for r in rows],
                "fingerprint": [r.fingerprint for r in rows],
            },
        )
        return
    SyncRow.objects.bulk_create(
        [
            SyncRow(
                sync_id=sync_id,
                key=r.key,
                subject=r.subject,
                fingerprint=r.fingerprint,
                synced_at=at,
                error="",
                failed_at=None,
            )
            for r in rows
        ],
        update_conflicts=True,
        unique_fields=["sync", "key"],
        update_fields=["subject", "fingerprint", "synced_at", "error", "failed_at"],
    )


def fail(sync_id: int, failures: Sequence[Failure], *, at: dt.datetime) -> None:
    """Record why ``failures`` were not acknowledged, so they go again. A row acknowledged
    before keeps its fingerprint and acknowledgement (the destination still holds it)."""
    if not failures:
        return
    if connection.vendor == "postgresql":
        execute_arrays(
            _FAIL,
            {
                "sync_id": sync_id,
                "at": at,
                "key": [f.key for f in failures],
                "subject": [f.subject for f in failures],
                "error": [f.error[:ERROR_CHARS] for f in failures],
            },
        )
        return
    SyncRow.objects.bulk_create(
        [
            SyncRow(
                sync_id=sync_id,
                key=f.key,
                subject=f.subject,
                error=f.error[:ERROR_CHARS],
                failed_at=at,
            )
            for f in failures
        ],
        update_conflicts=True,
        unique_fields=["sync", "key"],
        update_fields=["error", "failed_at"],
    )


def forget(sync_id: int, key: str) -> None:
    """The destination no longer holds ``key``: drop its state."""
    SyncRow.objects.filter(sync_id=sync_id, key=key).delete()
