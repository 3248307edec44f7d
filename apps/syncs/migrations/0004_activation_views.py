"""Schema ``activation``: the views a model on the console's database may read, and the role
that reads them (PostgreSQL only; the embedded SQLite connection carries the same views as
TEMP views, see ``apps.syncs.warehouses.activation``).

The role (``MARTECH_ACTIVATION_USER``, default ``martech_activation``) gets USAGE on the
schema and SELECT on its views, nothing else: the views run with their owner's rights, so
the tables behind them stay out of its reach. The migration creates the role when it does
not exist and the migrating role may create roles; otherwise an administrator creates it
first (``deploy/postgres-init/10-roles.sh`` does so for docker compose).
"""

from django.db import migrations, transaction
from django.db.utils import DatabaseError
from psycopg import sql as pgsql

STATUSES = "'processed', 'flagged'"

VIEWS = f"""
CREATE SCHEMA IF NOT EXISTS activation;

CREATE OR REPLACE VIEW activation.events AS
SELECT e.id AS event_id, e.message_id, s.name AS source, e.type, e.name, e.anonymous_id,
       e.user_id, COALESCE(pr.merged_into_id, e.profile_id) AS profile_id, e."timestamp",
       e.received_at,
       e.payload -> 'properties' AS properties, e.payload -> 'traits' AS traits,
       e.payload #>> '{{context,page,url}}' AS page_url,
       e.payload #>> '{{context,page,path}}' AS page_path,
       e.payload #>> '{{context,page,title}}' AS page_title,
       e.payload #>> '{{context,page,referrer}}' AS referrer,
       e.attribution ->> 'channel' AS channel,
       e.attribution ->> 'source' AS utm_source,
       e.attribution ->> 'medium' AS utm_medium,
       e.attribution ->> 'campaign' AS utm_campaign,
       e.attribution ->> 'content' AS utm_content,
       e.attribution ->> 'term' AS utm_term,
       e.consent
FROM public.events_event e JOIN public.events_source s ON s.id = e.source_id
LEFT JOIN public.identity_profile pr ON pr.id = e.profile_id
WHERE e.status IN ({STATUSES});

CREATE OR REPLACE VIEW activation.profiles AS
SELECT p.id AS profile_id, p.state AS status,
       (SELECT min(i.value) FROM public.identity_identifier i
        WHERE i.profile_id = p.id AND i.type = 'email') AS email,
       (SELECT min(i.value) FROM public.identity_identifier i
        WHERE i.profile_id = p.id AND i.type = 'user_id') AS user_id,
       t.traits, p.first_touch, p.last_touch,
       p.first_touch ->> 'channel' AS first_touch_channel,
       p.last_touch ->> 'channel' AS last_touch_channel,
       p.first_touch ->> 'at' AS first_touch_at,
       p.last_touch ->> 'at' AS last_touch_at,
       p.created_at, p.updated_at
FROM public.identity_profile p
LEFT JOIN (
    SELECT COALESCE(pr.merged_into_id, e.profile_id) AS profile_id,
           e.payload -> 'traits' AS traits,
           row_number() OVER (PARTITION BY COALESCE(pr.merged_into_id, e.profile_id)
                              ORDER BY e."timestamp" DESC, e.id DESC) AS n
    FROM public.events_event e
    LEFT JOIN public.identity_profile pr ON pr.id = e.profile_id
    WHERE e.type = 'identify' AND e.profile_id IS NOT NULL AND e.status IN ({STATUSES})
) t ON t.profile_id = p.id AND t.n = 1
WHERE p.merged_into_id IS NULL;

CREATE OR REPLACE VIEW activation.identifiers AS
SELECT i.profile_id, i.type, i.value, i.source, i.first_seen
FROM public.identity_identifier i;

CREATE OR REPLACE VIEW activation.consent AS
SELECT c.identifier_type, c.identifier_value, p.code AS purpose, c.granted, c.jurisdiction,
       c.source, c.occurred_at
FROM (
    SELECT r.*, row_number() OVER (PARTITION BY r.identifier_type, r.identifier_value,
                                                r.purpose_id
                                   ORDER BY r.occurred_at DESC, r.id DESC) AS n
    FROM public.consent_consentrecord r
) c JOIN public.consent_purpose p ON p.id = c.purpose_id
WHERE c.n = 1;
"""  # noqa: S608 - constants, no input

DROP = """
DROP VIEW IF EXISTS activation.events, activation.profiles, activation.identifiers,
    activation.consent;
DROP SCHEMA IF EXISTS activation;
"""


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


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    connection = schema_editor.connection
    role, password = activation_role()
    with connection.cursor() as cursor:
        cursor.execute(VIEWS)
    ensure_role(schema_editor, role, password)
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA activation TO {quoted}")
        cursor.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA activation TO {quoted}")
    # Nothing of the console's own schema for anyone but its owner (PUBLIC has USAGE on
    # schema public by default); the activation role reads schema activation only.
    _quiet(schema_editor, "REVOKE ALL ON SCHEMA public FROM PUBLIC")
    # Unqualified names mean the views. Needs CREATEROLE; the connection sets it anyway.
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    _quiet(
        schema_editor, f"ALTER ROLE {quoted} IN DATABASE {database} SET search_path = activation"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("syncs", "0003_syncrow_key_byte_order"),
        ("events", "0004_event_source_index_covered"),
        ("identity", "0003_profile_fillfactor"),
        ("consent", "0003_default_purposes"),
    ]

    operations = [migrations.RunPython(create, drop)]
