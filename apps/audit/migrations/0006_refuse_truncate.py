"""On PostgreSQL, refuse TRUNCATE of the audit log in the database itself.

Row triggers do not fire on TRUNCATE, so the append-only trigger alone let the whole table
be emptied in one statement. A statement trigger refuses it unless the session has set
``martech.allow_truncate`` to ``on``: only the test settings do (Django's test runner empties
every table with one TRUNCATE between transactional tests). SQLite has no TRUNCATE; its
DELETE triggers already refuse the equivalent.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_auditevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('martech.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (TRUNCATE refused)'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
CREATE TRIGGER audit_auditevent_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_no_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_no_truncate();
"""


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_client_request_id")]

    operations = [migrations.RunPython(_on_postgres(CREATE), _on_postgres(DROP))]
