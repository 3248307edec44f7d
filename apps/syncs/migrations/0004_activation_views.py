"""Schema ``activation``: where the console publishes what a model on its database may read,
and the role that reads it (PostgreSQL only; the embedded SQLite connection carries the same
views as TEMP views, see ``apps.syncs.warehouses.activation``).

The views themselves belong to the apps whose tables they read, each created by a migration of
its own app: ``events.0006`` (``activation.events``), ``identity.0004``
(``activation.profile_ids``, ``activation.identifiers``), ``identity.0005``
(``activation.profiles``) and ``consent.0005`` (``activation.consent``). Here: the schema,
the role and what it may do.

The role (``MARTECH_ACTIVATION_USER``, default ``martech_activation``) gets USAGE on the
schema and SELECT on every view created in it by the migrating role (default privileges, so
the views the apps create afterwards are readable), nothing else: the views run with their
owner's rights, so the tables behind them stay out of its reach. The migration creates the
role when it does not exist and the migrating role may create roles; otherwise an
administrator creates it first (``deploy/postgres-init/10-roles.sh`` does so for docker
compose).
"""

from django.db import migrations, transaction
from django.db.utils import DatabaseError
from psycopg import sql as pgsql


def activation_role() -> tuple[str, str]:
    """The activation role's name and password, from the settings."""
    from apps.syncs.warehouses.postgres import activation_params

    params = activation_params()
    return params["user"], params.get("password") or ""


def _quiet(schema_editor, sql, params=None) -> bool:
    """Run one statement in a savepoint; False if the database refused it."""
    try:
        connection = schema_editor.connection
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(sql, params)
        return True
    except DatabaseError:
        return False


def ensure_role(schema_editor, role: str, password: str = "") -> None:
    """Create the activation role unless it exists; say what to do if this role may not.

    Roles belong to the whole server: another migration (another database of the same
    server) may create it at the same moment; its CREATE then waits for ours and fails as a
    duplicate, or ours fails as one, and either way the role exists afterwards."""
    connection = schema_editor.connection
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is not None:
            return
        cursor.execute(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        if not cursor.fetchone()[0]:
            raise RuntimeError(
                f"The database role {role!r} that reads the activation views does not exist, "
                f"and the role this migration runs as may not create roles. Create it as a "
                f"database administrator first (deploy/postgres-init/10-roles.sh does so: "
                f"CREATE ROLE {quoted} LOGIN PASSWORD '…' NOSUPERUSER NOCREATEDB NOCREATEROLE "
                f"NOINHERIT), then run migrate again."
            )
    statement = pgsql.SQL(
        "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
    ).format(pgsql.Identifier(role))
    if password:  # a utility statement takes no parameters: the password as a literal
        statement += pgsql.SQL(" PASSWORD {}").format(pgsql.Literal(password))
    _quiet(schema_editor, statement.as_string(connection.connection))


def grant_reads(schema_editor, role: str) -> None:
    """Let ``role`` read schema ``activation``: what is in it now (explicitly) and every view
    the migrating role creates there later (default privileges)."""
    quoted = schema_editor.connection.ops.quote_name(role)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA activation TO {quoted}")
        cursor.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA activation TO {quoted}")
        cursor.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA activation GRANT SELECT ON TABLES TO {quoted}"
        )


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    connection = schema_editor.connection
    role, password = activation_role()
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA IF NOT EXISTS activation")
    ensure_role(schema_editor, role, password)
    grant_reads(schema_editor, role)
    quoted = connection.ops.quote_name(role)
    # Nothing of the console's own schema for anyone but its owner (PUBLIC has USAGE on
    # schema public by default); the activation role reads schema activation only.
    _quiet(schema_editor, "REVOKE ALL ON SCHEMA public FROM PUBLIC")
    # Unqualified names mean the views. Needs CREATEROLE; the connection sets it anyway.
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    _quiet(
        schema_editor, f"ALTER ROLE {quoted} IN DATABASE {database} SET search_path = activation"
    )


def drop(apps, schema_editor):
    """The schema goes, empty by now: the views' own migrations, which depend on this one,
    were reversed first."""
    if schema_editor.connection.vendor != "postgresql":
        return
    connection = schema_editor.connection
    revoke = pgsql.SQL(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA activation REVOKE SELECT ON TABLES FROM {}"
    ).format(pgsql.Identifier(activation_role()[0]))
    _quiet(schema_editor, revoke.as_string(connection.connection))
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS activation")


class Migration(migrations.Migration):
    dependencies = [("syncs", "0003_syncrow_key_byte_order")]

    operations = [migrations.RunPython(create, drop)]
