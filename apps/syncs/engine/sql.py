"""What a model's SQL may be: one read query. Parsed with sqlglot (PostgreSQL dialect);
anything else is refused with a reason, before a warehouse ever sees it. The query then runs
in a read-only transaction with a statement timeout, which stops what parsing cannot see."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from martech.common.errors import ApplicationError

WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter,
          exp.Command, exp.Copy)  # fmt: skip
# Functions that act on the server or read its files, whatever the transaction mode.
FORBIDDEN_FUNCTIONS = frozenset({
    "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import",
    "lo_export", "dblink", "dblink_exec", "set_config", "pg_advisory_lock",
    "pg_advisory_xact_lock", "pg_sleep", "pg_sleep_for", "pg_sleep_until",
})  # fmt: skip


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_sql")


def check_sql(sql: str) -> str:
    """The SQL, stripped of a trailing semicolon, if it is a single read query."""
    text = (sql or "").strip().rstrip(";").strip()
    if not text:
        raise _refuse("Write a SELECT query.")
    try:
        trees = [t for t in sqlglot.parse(text, read="postgres") if t is not None]
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" (line {first.get('line')}, column {first.get('col')})" if first else ""
        raise _refuse(f"The SQL does not parse{where}: {first.get('description', exc)}.") from None
    if len(trees) != 1:
        raise _refuse(f"A model is one query; this is {len(trees)} statements.")
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        raise _refuse(f"A model is a read query (SELECT); this is {tree.key.upper()}.")
    for node in tree.walk():
        if isinstance(node, WRITES):
            raise _refuse(f"A model only reads; it contains {node.key.upper()}.")
        if isinstance(node, exp.Into):
            raise _refuse("A model only reads; SELECT … INTO creates a table.")
        if isinstance(node, exp.Lock):
            raise _refuse("A model only reads; FOR UPDATE/SHARE locks rows.")
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in FORBIDDEN_FUNCTIONS:
                raise _refuse(f"A model may not call {name}().")
    return text
