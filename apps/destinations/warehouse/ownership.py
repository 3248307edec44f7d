"""Which schema is a warehouse destination's: the one it created, and nobody else's.

A destination loads, publishes and erases only in a schema it owns. The first load claims a
schema that does not exist yet, or is empty, by creating a marker table in it,
``_martech_destination_<id>``; from then on the marker says whose the schema is. A schema
that holds any other table (a company's own, or another destination's marker) is refused
with a reason: the console never alters, fills or empties a table it did not create, and two
destinations (a sandbox and a production one, or the same warehouse reached by two
connections) never write into the same tables.
"""

from __future__ import annotations

from django.utils import timezone

from apps.syncs.warehouses.base import Column, Table
from martech.common.errors import ApplicationError

from ..errors import DestinationsErrorCode

MARKER_PREFIX = "_martech_destination_"


def marker(destination) -> str:
    return f"{MARKER_PREFIX}{destination.pk}"


def is_marker(table: str) -> bool:
    return table.startswith(MARKER_PREFIX)


def owns(destination, tables) -> bool:
    """Whether the schema whose tables are ``tables`` carries ``destination``'s marker."""
    return marker(destination) in tables


def claim(engine, connection, schema: str, destination, tables) -> None:
    """Make ``schema`` (holding ``tables``) ``destination``'s, or refuse with the reason
    (``schema_taken``): another destination's marker is there, or tables the console did not
    create are."""
    mine = marker(destination)
    others = sorted(t for t in tables if is_marker(t) and t != mine)
    if others:
        owner = others[0].removeprefix(MARKER_PREFIX)
        raise ApplicationError(
            f"Schema {schema} is loaded by another destination (#{owner}): give this one a "
            "schema of its own.",
            code=DestinationsErrorCode.SCHEMA_TAKEN,
        )
    if mine in tables:
        return
    if tables:
        shown = ", ".join(sorted(tables)[:5])
        raise ApplicationError(
            f"Schema {schema} already holds tables the console did not create ({shown}): "
            "give the destination a schema of its own, which the console creates. It never "
            "changes a table it did not create.",
            code=DestinationsErrorCode.SCHEMA_TAKEN,
        )
    table = Table(
        schema=schema,
        name=mine,
        columns=(Column("destination", "string"), Column("claimed_at", "timestamp")),
        key="destination",
    )
    engine.ensure(connection, table)
    engine.load(connection, table, [(str(destination.pk), timezone.now())])
