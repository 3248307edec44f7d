"""Bulk writes with PostgreSQL COPY (text format), shared by the bulk loaders."""

from __future__ import annotations

import datetime as dt

import orjson
from django.db import connection

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
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
        return orjson.dumps(value).decode().translate(_ESCAPES)
    return str(value).translate(_ESCAPES)


def copy_rows(table: str, columns: list[str] | tuple[str, ...], rows) -> None:
    """COPY ``rows`` (tuples in ``columns`` order) into ``table``, in large blocks."""
    rows = list(rows)
    if not rows:
        return
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for start in range(0, len(rows), CHUNK):
                block = rows[start : start + CHUNK]
                copy.write("".join("\t".join(map(text_field, row)) + "\n" for row in block))
