"""System checks of the console's database roles (run by ``migrate`` and by
``manage.py check --database default``).

- ``martech.W010``: the console is connected as a superuser. It should own its tables and
  nothing more, so a flaw in any feature cannot reach the server's files, programs or other
  databases (docker-compose.yml's init script creates such a role).
- ``martech.W011``: the activation role that reverse ETL uses on the console's database is
  missing or cannot read schema ``activation``.
"""

from __future__ import annotations

from django.core.checks import Tags, Warning, register
from django.db import connections
from django.db.utils import DatabaseError


@register(Tags.database)
def console_role_check(app_configs=None, databases=None, **kwargs) -> list[Warning]:
    """Warn when the console's database connection is a superuser."""
    if not databases or "default" not in databases:
        return []
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user::text, rolsuper FROM pg_roles WHERE rolname = current_user"
            )
            row = cursor.fetchone()
    except DatabaseError:
        return []  # the database is unreachable: other checks and commands say so
    if not row or not row[1]:
        return []
    return [
        Warning(
            f"The console connects to its database as {row[0]!r}, a superuser.",
            hint="Connect as a role that owns the console's database and is NOSUPERUSER "
            "NOCREATEROLE (docker-compose.yml's deploy/postgres-init/10-roles.sh creates "
            "'martech'); keep the superuser for administration.",
            id="martech.W010",
        )
    ]


@register(Tags.database)
def activation_role_check(app_configs=None, databases=None, **kwargs) -> list[Warning]:
    """Warn when the activation role is missing or cannot read the activation views."""
    if not databases or "default" not in databases:
        return []
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return []
    from apps.syncs.selectors import activation_role

    role = activation_role()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s), "
                "to_regclass('activation.events') IS NOT NULL",
                [role],
            )
            exists, views = cursor.fetchone()
            readable = False
            if exists and views:
                cursor.execute(
                    "SELECT has_table_privilege(%s, 'activation.events', 'SELECT')", [role]
                )
                readable = cursor.fetchone()[0]
    except DatabaseError:
        return []
    if not views or readable:
        return []  # before the migration, or as it should be
    problem = "does not exist" if not exists else "may not read the activation views"
    return [
        Warning(
            f"The database role {role!r} that reverse ETL uses on the console's database "
            f"{problem}.",
            hint="Create it as an administrator (deploy/postgres-init/10-roles.sh) and run "
            "migrate again, or set MARTECH_ACTIVATION_USER to the role that exists.",
            id="martech.W011",
        )
    ]
