"""The identity graph's hot SQL: bulk lookups and writes of profiles, identifiers and links,
on both engines, by column name.

Callers hand rows over as named columns (``{"type": [...], "value": [...]}``), or as named
row types (``Touches``, ``TouchChange``); the statements are built from those names and the
model's fields, so no caller depends on an order of columns and a column is added in one
place. ``identifier_lookup`` is the graph's public bulk read (the event pipeline uses it).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from django.db import connection, models
from psycopg.types.json import Jsonb

from martech.common.pgcopy import copy_rows, execute_arrays, execute_json

from .models import Identifier, Profile


def identifier_lookup(keys, column: str = "id", raw=None) -> dict[tuple[str, str], int]:
    """``column`` (``id`` or ``profile_id``) of the identifiers among ``keys`` ((type, value)
    pairs) that are in the graph. On PostgreSQL one array parameter per type, far cheaper
    than a placeholder per value. ``raw`` is the PostgreSQL connection of the running
    transaction, passed in when this runs on a helper thread."""
    if column not in ("id", "profile_id"):
        raise ValueError(column)
    by_type: dict[str, list[str]] = defaultdict(list)
    for kind, value in keys:
        by_type[kind].append(value)
    found: dict[tuple[str, str], int] = {}
    statement = (
        f"SELECT {column}, value FROM identity_identifier "  # noqa: S608
        "WHERE type = %s AND value = ANY(%s)"
    )
    for kind, values in by_type.items():
        if raw is not None:
            rows = raw.execute(statement, [kind, values]).fetchall()
        elif connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(statement, [kind, values])
                rows = cursor.fetchall()
        else:
            rows = [
                row
                for start in range(0, len(values), 500)
                for row in Identifier.objects.filter(
                    type=kind, value__in=values[start : start + 500]
                ).values_list(column, "value")
            ]
        found.update(((kind, value), ref) for ref, value in rows)
    return found


def reserve_ids(model: type[models.Model], n: int) -> range:
    """A block of ``n`` ids for ``model``'s table.

    On PostgreSQL the table is locked against other writers (readers are not blocked) until
    the transaction ends, so that no concurrent insert can draw a value inside the block
    between reading and advancing the sequence; one statement instead of ``n`` nextval calls.
    """
    if n == 0:
        return range(0)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
                " nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                [table, table, n],
            )
            last = cursor.fetchone()[0]
            return range(last - n + 1, last + 1)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        start = cursor.fetchone()[0] + 1
    return range(start, start + n)


# COPY's binary types, by the kind of the model's field (a foreign key: its target's).
_COPY_TYPES = {
    "BigAutoField": "int8",
    "BigIntegerField": "int8",
    "AutoField": "int4",
    "IntegerField": "int4",
    "CharField": "varchar",
    "TextField": "text",
    "FloatField": "float8",
    "DateTimeField": "timestamptz",
    "JSONField": "jsonb",
    "BooleanField": "bool",
}


def _copy_type(field) -> str:
    if field.is_relation:
        field = field.target_field
    return _COPY_TYPES[field.get_internal_type()]


def insert(model: type[models.Model], columns: Mapping[str, Iterable]) -> None:
    """Insert rows given as columns named by the table's column names (``profile_id``, not
    ``profile``), each an iterable of the same length (``itertools.repeat`` for a constant
    is fine: the first finite column decides). A JSON column takes dicts and lists.

    PostgreSQL: binary COPY, typed by the model's fields, the rows streamed as they are
    zipped. Elsewhere: one multi-row INSERT per batch."""
    names = list(columns)
    fields = {f.column: f for f in model._meta.concrete_fields}
    json = [n for n in names if fields[n].get_internal_type() == "JSONField"]
    postgres = connection.vendor == "postgresql"
    values = dict(columns)
    for name in json:
        values[name] = _adapted(values[name], Jsonb if postgres else _json_text)
    rows = zip(*(values[n] for n in names))  # noqa: B905 - constants are endless repeats
    table = model._meta.db_table
    if postgres:
        copy_rows(table, names, rows, types=[_copy_type(fields[n]) for n in names])
        return
    placeholders = ", ".join(["%s"] * len(names))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})",  # noqa: S608
            list(rows),
        )


def _adapted(values: Iterable, wrap) -> Iterable:
    """``wrap`` of each value, made once for a run of the same object (a constant column)."""
    seen = done = _NOTHING
    for value in values:
        if value is not seen:
            seen, done = value, wrap(value)
        yield done


_NOTHING = object()


def _json_text(value) -> str:
    import orjson

    return orjson.dumps(value).decode()


# -- first and last touch ------------------------------------------------------------------


class Touches(NamedTuple):
    """What deciding a profile's touches needs to know of it."""

    id: int
    no_first: bool
    first_at: str  # ISO time of the first touch, "" if none
    no_last: bool
    last_at: str


class TouchChange(NamedTuple):
    """A profile's new touches; None keeps the one it has."""

    id: int
    first: dict | None
    last: dict | None


# Each field of ``Touches`` as an expression on identity_profile, by name.
_TOUCH_EXPRESSIONS = {
    "id": "id",
    "no_first": "coalesce(first_touch, '{}') = '{}'",
    "first_at": "coalesce(first_touch->>'at', '')",
    "no_last": "coalesce(last_touch, '{}') = '{}'",
    "last_at": "coalesce(last_touch->>'at', '')",
}
_TOUCHES_HELD = (
    f"SELECT {', '.join(f'{_TOUCH_EXPRESSIONS[f]} AS {f}' for f in Touches._fields)} "  # noqa: S608
    "FROM identity_profile WHERE id = ANY(%b::bigint[]) ORDER BY id FOR UPDATE"
)
# The changes as one JSON document of objects (psycopg dumps jsonb arrays element by element).
_TOUCHES_WRITE = (
    "UPDATE identity_profile p SET first_touch = coalesce(r.first, p.first_touch), "
    "last_touch = coalesce(r.last, p.last_touch), updated_at = %s "
    "FROM jsonb_to_recordset(%s::jsonb) AS r(id bigint, first jsonb, last jsonb) "
    "WHERE p.id = r.id"
)


def touches_hold(profile_ids: Iterable[int]) -> list[Touches]:
    """Lock these profiles (in id order) for the transaction and read their touches."""
    if connection.vendor == "postgresql":
        return list(map(Touches._make, execute_arrays(_TOUCHES_HELD, [list(profile_ids)])))
    return [
        Touches(
            id=p.pk,
            no_first=not p.first_touch,
            first_at=(p.first_touch or {}).get("at", ""),
            no_last=not p.last_touch,
            last_at=(p.last_touch or {}).get("at", ""),
        )
        for p in Profile.objects.select_for_update().filter(pk__in=profile_ids).order_by("pk")
    ]


def touches_write(changes: list[TouchChange], *, at: dt.datetime) -> None:
    """Write the profiles' new touches (one statement on PostgreSQL)."""
    if not changes:
        return
    if connection.vendor == "postgresql":
        execute_json(_TOUCHES_WRITE, [change._asdict() for change in changes], at)
        return
    for change in changes:
        fields = {"updated_at": at}
        if change.first is not None:
            fields["first_touch"] = change.first
        if change.last is not None:
            fields["last_touch"] = change.last
        Profile.objects.filter(pk=change.id).update(**fields)
