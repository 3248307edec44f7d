"""What a model may read from the console's own database: the views of schema ``activation``.

The console's database, used as a warehouse, publishes only what lifecycle marketing
activates: ``activation.events`` (processed events with their properties, page and campaign,
and the profile each belongs to now, merges followed),
``activation.profiles`` (standing profiles with traits and first/last touch),
``activation.profile_ids`` (every recorded profile id and the profile it was merged into),
``activation.identifiers`` and ``activation.consent`` (each subject's latest choice per
purpose). Sessions, users, tokens, credentials, audit, erasure and suppression are not in it.

Each view belongs to the app whose tables it reads, and no app names another's table: where
a view needs another app's data it reads that app's published view. On PostgreSQL each is
created by a migration of its own app: ``events.0006`` (``activation.events``, merges
followed through ``activation.profile_ids``), ``identity.0004`` (``activation.profile_ids``,
``activation.identifiers``), ``identity.0005`` (``activation.profiles``, its traits from
``activation.events``) and ``consent.0005`` (``activation.consent``).

On PostgreSQL the boundary is a database role (``MARTECH_ACTIVATION_USER``) that holds USAGE
on schema ``activation`` and SELECT on its views and nothing else; the views run with their
owner's rights, so the tables behind them stay unreachable. The migration
``syncs.0004_activation_views`` creates the schema, the role and its grants (default
privileges: every view the migrating role creates in the schema is readable by it).

On SQLite (the embedded mode) there is no role: the read-only connection carries the same
views as TEMP views, a query may name only them (``check_tables``), and an authorizer refuses
any column read that does not go through one of them. References to ``activation.events``
(or ``events``) are rewritten to the TEMP view so the same SQL runs on both engines. Each
view is composed from SELECTs that the owning apps publish over their own tables
(``activation_*_sql`` in the selectors of events, identity and consent): no table of
theirs is named here.
"""

from __future__ import annotations

import secrets
import sqlite3

from sqlglot import exp

from apps.syncs.errors import SyncsErrorCode
from martech.common.errors import ApplicationError

from ..engine.sql import parse_checked

SCHEMA = "activation"

# The contract: each view's columns, in order, on both engines.
COLUMNS: dict[str, tuple[str, ...]] = {
    "events": (
        "event_id",
        "message_id",
        "source",
        "type",
        "name",
        "anonymous_id",
        "user_id",
        "profile_id",
        "timestamp",
        "received_at",
        "properties",
        "traits",
        "page_url",
        "page_path",
        "page_title",
        "referrer",
        "channel",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
        "consent",
    ),
    "profiles": (
        "profile_id",
        "status",
        "email",
        "user_id",
        "traits",
        "first_touch",
        "last_touch",
        "first_touch_channel",
        "last_touch_channel",
        "first_touch_at",
        "last_touch_at",
        "created_at",
        "updated_at",
    ),
    "profile_ids": ("profile_id", "merged_into_id"),
    "identifiers": ("profile_id", "type", "value", "source", "first_seen"),
    "consent": (
        "identifier_type",
        "identifier_value",
        "purpose",
        "granted",
        "jurisdiction",
        "source",
        "occurred_at",
    ),
}
VIEWS = tuple(COLUMNS)

# Table functions a query may read from (they read their arguments, never a table).
TABLE_FUNCTIONS = frozenset(
    {
        "json_each",
        "json_tree",
        "jsonb_each",
        "jsonb_each_text",
        "json_each_text",
        "jsonb_array_elements",
        "jsonb_array_elements_text",
        "json_array_elements",
        "json_array_elements_text",
        "generate_series",
        "unnest",
    }
)


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, code=SyncsErrorCode.INVALID_SQL)


def _name(identifier) -> str:
    """An identifier as PostgreSQL resolves it: unquoted names fold to lower case."""
    if isinstance(identifier, exp.Identifier):
        return identifier.this if identifier.quoted else identifier.this.lower()
    return str(identifier or "").lower()


def _visible_ctes(table: exp.Table) -> set[str]:
    """The CTE names a table reference can mean where it stands: the WITH of each enclosing
    query, and inside a CTE only the CTEs before it (all of them when RECURSIVE)."""
    names: set[str] = set()
    child: exp.Expression = table
    node = table.parent
    while node is not None:
        with_ = node.args.get("with_") or node.args.get("with")
        if isinstance(with_, exp.With) and child is not with_:
            names.update(_name(cte.args["alias"].this) for cte in with_.expressions)
        elif isinstance(node, exp.With):
            ctes = node.expressions
            index = next((i for i, cte in enumerate(ctes) if cte is child), len(ctes))
            upto = len(ctes) if node.args.get("recursive") else index
            names.update(_name(cte.args["alias"].this) for cte in ctes[:upto])
            # the query the WITH belongs to: its other CTEs are not visible from here
            child, node = node.parent, node.parent.parent if node.parent else None
            continue
        child, node = node, node.parent
    return names


def check_tables(sql: str) -> None:
    """Refuse a query that names anything but the activation views (CTE names aside).

    ``sql`` has passed ``check_sql`` already. Raises ``ApplicationError`` ``invalid_sql``
    naming the first table that is not an activation view."""
    # The guard's own tree: parsed within its nesting limits (a second parse of a query at
    # those limits would recurse past the interpreter's limit).
    tree = parse_checked(sql)[1]
    for table in tree.find_all(exp.Table):
        target = table.this
        if not isinstance(target, exp.Identifier):
            written = target.sql(dialect="postgres") if target is not None else "ROWS FROM"
            function = written.split("(")[0].strip().lower()
            if isinstance(target, exp.Func) and function in TABLE_FUNCTIONS:
                continue
            raise _refuse(
                f"A model on the console's database reads only the activation views "
                f"({_listed()}); it may not read {function or written}()."
            )
        name, schema = _name(target), _name(table.args.get("db"))
        if table.args.get("catalog") is not None:
            schema = "."  # three-part names never mean a view
        if not schema and name in _visible_ctes(table):
            continue
        if schema in ("", SCHEMA) and name in VIEWS:
            continue
        shown = table.sql(dialect="postgres").split(" AS ")[0]
        raise _refuse(
            f"A model on the console's database reads only the activation views "
            f"({_listed()}); it may not read {shown}."
        )


def _listed() -> str:
    return ", ".join(f"{SCHEMA}.{view}" for view in VIEWS)


# The TEMP views' names on SQLite: the view's name and a suffix drawn once per process, so
# no query can name a CTE after one of them and pass the authorizer as if it were the view.
_SUFFIX = secrets.token_hex(6)
SQLITE_NAMES = {view: f"{view}_{_SUFFIX}" for view in VIEWS}


def _span(node: exp.Expression) -> tuple[int, int]:
    meta = node.meta
    if "start" not in meta or "end" not in meta:
        raise _refuse("The SQL could not be read for the embedded database.")
    return meta["start"], meta["end"]


def for_sqlite(sql: str) -> str:
    """The query as the SQLite connection runs it: each reference to an activation view
    (``activation.events`` or ``events``) names that connection's TEMP view, keeping the name
    as written as its alias; the rest of the text is left exactly as written.

    ``sql`` has passed ``check_tables``."""
    sql, tree = parse_checked(sql)  # positions in the tree are positions in this text
    edits: list[tuple[int, int, str]] = []
    for table in tree.find_all(exp.Table):
        target, schema_node = table.this, table.args.get("db")
        if not isinstance(target, exp.Identifier):
            continue
        name, schema = _name(target), _name(schema_node)
        if (not schema and name in _visible_ctes(table)) or schema not in ("", SCHEMA):
            continue
        if name not in VIEWS:
            continue
        start, end = _span(target)
        if schema_node is not None:
            start = _span(schema_node)[0]
        text = f'temp."{SQLITE_NAMES[name]}"'
        if not table.alias:
            text += f' AS "{name}"'
        edits.append((start, end, text))
    for column in tree.find_all(exp.Column):
        schema_node, table_node = column.args.get("db"), column.args.get("table")
        if schema_node is None or table_node is None or column.args.get("catalog"):
            continue
        if _name(schema_node) == SCHEMA and _name(table_node) in VIEWS:
            edits.append((_span(schema_node)[0], _span(table_node)[1], f'"{_name(table_node)}"'))
    for start, end, text in sorted(edits, reverse=True):
        sql = sql[:start] + text + sql[end + 1 :]
    return sql


# -- SQLite --------------------------------------------------------------------------------


def _sqlite_views() -> dict[str, str]:
    """Each activation view's body on SQLite, composed from what the owning apps publish
    (events, identity and consent each write the SELECT over their own tables): merges are
    followed here, and a profile's traits are those of its latest identify event."""
    from apps.consent.selectors import activation_consent_sql
    from apps.events.selectors import activation_events_sql
    from apps.identity.selectors import (
        activation_identifiers_sql,
        activation_profile_ids_sql,
        activation_profiles_sql,
    )

    events, profiles, ids = (
        activation_events_sql(),
        activation_profiles_sql(),
        activation_profile_ids_sql(),
    )
    current = "COALESCE(pr.merged_into_id, ev.profile_id)"  # the profile it belongs to now
    followed = f"FROM ({events}) ev LEFT JOIN ({ids}) pr ON pr.profile_id = ev.profile_id"
    event_columns = ", ".join(
        f"{current} AS profile_id" if c == "profile_id" else f'ev."{c}" AS "{c}"'
        for c in COLUMNS["events"]
    )
    profile_columns = ", ".join(
        f'{"t" if c == "traits" else "p"}."{c}" AS "{c}"' for c in COLUMNS["profiles"]
    )
    return {
        "events": f"SELECT {event_columns} {followed}",
        "profiles": f"""
SELECT {profile_columns}
FROM ({profiles}) p
LEFT JOIN (
    SELECT {current} AS profile_id, ev.traits AS traits,
           row_number() OVER (PARTITION BY {current}
                              ORDER BY ev."timestamp" DESC, ev.event_id DESC) AS n
    {followed}
    WHERE ev.type = 'identify' AND ev.profile_id IS NOT NULL
) t ON t.profile_id = p.profile_id AND t.n = 1
WHERE p.merged_into_id IS NULL""",  # noqa: S608 - constants, no input
        "profile_ids": ids,
        "identifiers": activation_identifiers_sql(),
        "consent": activation_consent_sql(),
    }


_ALLOWED_ACTIONS = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        getattr(sqlite3, "SQLITE_RECURSIVE", 33),
    }
)


def _authorizer_for(names: frozenset[str]):
    """Allow reads through the activation views only: a column of a console table is read
    only from inside one of the views; at the top level only the views' own columns.
    A column-less reference (``count(*)`` of a view the planner flattened) reads no data.
    PRAGMA, ATTACH and every write are refused."""

    def authorize(action, arg1, arg2, database, source):
        if action not in _ALLOWED_ACTIONS:
            return sqlite3.SQLITE_DENY
        if action != sqlite3.SQLITE_READ:
            return sqlite3.SQLITE_OK
        if source in names or (database == "temp" and arg1 in names) or not arg2:
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    return authorize


def sqlite_prepare(conn: sqlite3.Connection) -> None:
    """Give a read-only SQLite connection the activation views, then limit it to them."""
    for view, body in _sqlite_views().items():
        conn.execute(f'CREATE TEMP VIEW IF NOT EXISTS "{SQLITE_NAMES[view]}" AS {body}')
    conn.set_authorizer(_authorizer_for(frozenset(SQLITE_NAMES.values())))
