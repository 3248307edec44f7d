"""Erasing a person from a warehouse destination: their rows go from every table the
destination's schema holds, in one transaction of the warehouse, and what each table lost is
counted for the erasure's evidence.

A row is the person's when a column names one of their identifiers, as the layout names it:

* ``user_id`` and ``anonymous_id`` in every table, ``users.id``, ``aliases.previous_id``;
* a trait or context column named after an identifier's type (``email``,
  ``context_traits_email``, ``trait_email``; ``phone``; ``device_id``, ``context_device_id``;
  a custom type's name);
* ``identity_graph.id`` (``type:value``).

Values are matched as the console normalises them (an email trimmed and lower-cased). Only
text columns are compared. ``deleted_users`` and ``hash_key`` are kept (they hold no value),
and ``profiles`` is published again without the person (the console erased the profile).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from apps.identity.normalise import Ident
from martech.common.errors import ApplicationError

from ..adapters.warehouse import DEFAULT_SCHEMA
from ..errors import DestinationsErrorCode
from ..models import Destination
from . import ownership
from .layout import USERS, snake
from .publish import deleted_users_table

KEPT = frozenset({"deleted_users", "hash_key", "profiles"})


def _names(kind: str) -> set[str]:
    """The columns a value of identifier type ``kind`` lands in."""
    name = snake(kind.split(":", 1)[-1])
    names = {name, f"context_traits_{name}", f"trait_{name}"}
    if kind == "device_id":
        names.add("context_device_id")
    return names


def targets(table: str, columns: dict[str, str], idents: Iterable[Ident]) -> dict[str, set[str]]:
    """The columns of ``table`` (name -> console type) to delete by, each with the values."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for ident in idents:
        names = _names(ident.type)
        if ident.type in ("user_id", "anonymous_id") and table == "aliases":
            names.add("previous_id")
        if ident.type == "user_id" and table == USERS:
            names.add("id")
        for name in names:
            wanted[name].add(ident.value)
        if table == "identity_graph":
            wanted["id"].add(str(ident))
    return {c: v for c, v in wanted.items() if columns.get(c) == "string"}


def _failed(reason: str) -> ApplicationError:
    return ApplicationError(
        f"The warehouse did not erase the person: {reason}",
        code=DestinationsErrorCode.WAREHOUSE_FAILED,
    )


def erase(
    destination: Destination, idents: list[Ident], erased: list[tuple[str, str, object]]
) -> dict[str, int]:
    """Delete the person's rows from every table of the destination's schema, and add
    ``erased`` (hash, type, moment) to its ``deleted_users``; the rows deleted per table
    (every table looked at, 0 included). One transaction of the warehouse: a failure changes
    nothing and raises ``ApplicationError`` (``warehouse_failed``, the reason scrubbed)."""
    from apps.syncs.models import Warehouse
    from apps.syncs.selectors import warehouse_engine

    from .loader import _int, _scrubbed

    config = destination.config or {}
    schema = config.get("schema") or DEFAULT_SCHEMA
    warehouse = Warehouse.objects.filter(pk=_int(config.get("warehouse"))).first()
    if warehouse is None:
        raise _failed("its warehouse connection no longer exists.")
    credentials: dict = {}
    counts: dict[str, int] = {}
    try:
        engine, credentials = warehouse_engine(warehouse)
        with engine.writing(credentials) as connection:
            found = engine.tables(connection, schema)
            if not ownership.owns(destination, found):
                return counts  # never loaded here: no table of the schema is the console's
            for table, columns in sorted(found.items()):
                if table in KEPT or ownership.is_marker(table):
                    continue
                deleted = 0
                for column, values in sorted(targets(table, columns, idents).items()):
                    deleted += engine.delete(connection, table, schema, column, sorted(values))
                counts[table] = deleted
            if erased:
                table = deleted_users_table(schema)
                engine.ensure(connection, table)
                engine.load(connection, table, erased)
    except Exception as exc:
        raise _failed(_scrubbed(exc, credentials)) from None
    return counts
