"""Bulk writes with PostgreSQL COPY, shared by the bulk loaders.

Text format by default; with ``types`` (PostgreSQL type names, one per column) the rows go in
binary format, encoded by psycopg's compiled dumpers: no text formatting in Python and no
parsing of numbers and timestamps in the server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools

import orjson
import psycopg
from django.db import connection, transaction

ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
CHUNK = 20_000


def text_field(value) -> str:
    """One field in COPY's text format: NULL, booleans, date-times, JSON, text escaped."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode().translate(ESCAPES)
    return str(value).translate(ESCAPES)


def copy_rows(table: str, columns: list[str] | tuple[str, ...], rows, types=None) -> None:
    """COPY ``rows`` (tuples in ``columns`` order) into ``table``.

    ``rows`` may be a generator: rows are sent as they are produced, so the server stores
    while the caller builds the next ones.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    rows = itertools.chain([first], rows)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3
        if types is not None:
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
            with raw.copy(statement) as copy:
                copy.set_types(list(types))
                write = copy.write_row
                for row in rows:
                    write(row)
            return
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            while block := list(itertools.islice(rows, CHUNK)):
                copy.write("".join("\t".join(map(text_field, row)) + "\n" for row in block))


def raw_cursor():
    """A psycopg cursor on Django's connection (in its transaction) whose date-times are
    read by psycopg's compiled loader, not the Python one Django installs to attach its
    time zone: the connection's zone is UTC, so the values are the same."""
    import psycopg

    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    oid = psycopg.adapters.types["timestamptz"].oid
    for fmt in (psycopg.pq.Format.TEXT, psycopg.pq.Format.BINARY):
        cursor.adapters.register_loader(oid, psycopg.adapters.get_loader(oid, fmt))
    return cursor


def execute_arrays(sql: str, columns: list[list]) -> list[tuple]:
    """Run ``sql`` with whole columns as array parameters (``%b`` placeholders), bound in
    binary by the server: one statement for a batch of rows (``UPDATE … FROM unnest(…)``)
    without quoting every element as text, which Django's client-side binding would do.
    Returns the rows of a statement that returns any."""
    with raw_cursor() as cursor:
        cursor.execute(sql, columns)
        return cursor.fetchall() if cursor.description else []


def execute_json(sql: str, rows: list, *params) -> list[tuple]:
    """Run ``sql`` with ``rows`` (lists of JSON-able values: text, numbers, booleans, None,
    date-times, dicts, lists) as one JSON document, the last parameter, after ``params``.
    The statement takes it apart with ``jsonb_array_elements(%s::jsonb) AS r`` and reads
    ``r->>0``, ``r->1``… (``nullif(r->N, 'null')`` for a jsonb column that may be NULL).
    orjson writes the whole batch in one call: for wide batches this is cheaper on this side
    than binary arrays, whose elements psycopg dumps one by one in Python."""
    with raw_cursor() as cursor:
        cursor.execute(sql, [*params, orjson.dumps(rows).decode()])
        return cursor.fetchall() if cursor.description else []


def insert_then_skip_conflicts(
    statement: str, params: list, *, on_conflict: str, constraint: str = ""
) -> None:
    """Run ``statement`` (an INSERT) as it is; only if it meets a row that already holds one
    of its unique keys (``constraint``'s, when named), run it again with ``on_conflict``
    appended (``" ON CONFLICT … DO NOTHING"``). For inserts that rarely meet a conflict: the
    check that ON CONFLICT makes on every row costs a fifth to a quarter of the insert.
    Inside a transaction the first try runs in a savepoint, so that a refused insert leaves
    the transaction usable; outside one it is a statement of its own."""
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with guard, raw_cursor() as cursor:
            cursor.execute(statement, params)
        return
    except psycopg.errors.UniqueViolation as exc:  # raised by psycopg's own cursor
        if constraint and exc.diag.constraint_name != constraint:
            raise
    with raw_cursor() as cursor:
        cursor.execute(statement + on_conflict, params)


def update_rows(model, rows: list, fields: list[str]) -> None:
    """``model.objects.bulk_update(rows, fields)``; on PostgreSQL one statement taking the rows
    as one JSON document (``execute_json``), rather than Django's CASE per row and field."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(rows, fields)
        return
    columns = [model._meta.get_field(f) for f in fields]
    sets = ", ".join(_assign(c, n) for n, c in enumerate(columns))
    pk = model._meta.pk.column
    execute_json(
        f"UPDATE {model._meta.db_table} t SET {sets} "  # noqa: S608
        f"FROM jsonb_array_elements(%s::jsonb) AS r WHERE t.{pk} = (r->>{len(columns)})::bigint",
        [(*(c.value_from_object(row) for c in columns), row.pk) for row in rows],
    )


def _assign(field, n: int) -> str:
    """``column = `` the row's ``n``-th value. Text is assigned as text, so that a value too
    long for its column is refused as ``bulk_update`` would, not cut short by a cast."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        return f"{field.column} = nullif(r->{n}, 'null')"
    if kind in ("CharField", "TextField"):
        return f"{field.column} = r->>{n}"
    return f"{field.column} = (r->>{n})::{field.db_type(connection)}"
