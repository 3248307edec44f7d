"""On PostgreSQL, refuse TRUNCATE of the consent ledger in the database itself.

Row triggers do not fire on TRUNCATE, so the append-only trigger alone let the whole ledger
be emptied in one statement. A statement trigger refuses it unless the session has set
``martech.allow_truncate`` to ``on``: only the test settings do (Django's test runner empties
every table with one TRUNCATE between transactional tests). Erasure deletes a person's rows
one by one (``martech.erasure``), never by TRUNCATE. SQLite has no TRUNCATE.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION consent_record_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('martech.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'consent records are append-only (TRUNCATE refused)'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS consent_record_no_truncate ON consent_consentrecord;
CREATE TRIGGER consent_record_no_truncate
    BEFORE TRUNCATE ON consent_consentrecord
    FOR EACH STATEMENT EXECUTE FUNCTION consent_record_no_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS consent_record_no_truncate ON consent_consentrecord;
DROP FUNCTION IF EXISTS consent_record_no_truncate();
"""


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("consent", "0003_default_purposes")]

    operations = [migrations.RunPython(_on_postgres(CREATE), _on_postgres(DROP))]
