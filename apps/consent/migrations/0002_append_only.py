"""Refuse UPDATE of consent records in the database itself, and DELETE except inside an
erasure (which sets ``martech.erasure`` for its transaction) on PostgreSQL."""

from django.db import migrations

PG_CREATE = """
CREATE OR REPLACE FUNCTION consent_record_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('martech.erasure', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'consent records are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS consent_record_append_only ON consent_consentrecord;
CREATE TRIGGER consent_record_append_only
    BEFORE UPDATE OR DELETE ON consent_consentrecord
    FOR EACH ROW EXECUTE FUNCTION consent_record_append_only();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS consent_record_append_only ON consent_consentrecord;
DROP FUNCTION IF EXISTS consent_record_append_only();
"""
SQLITE_CREATE = """CREATE TRIGGER IF NOT EXISTS consent_record_no_update
    BEFORE UPDATE ON consent_consentrecord
    BEGIN SELECT RAISE(ABORT, 'consent records are append-only (UPDATE refused)'); END"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS consent_record_no_update"


def _run(pg, sqlite):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        sql = pg if vendor == "postgresql" else sqlite if vendor == "sqlite" else None
        if sql:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [migrations.RunPython(_run(PG_CREATE, SQLITE_CREATE), _run(PG_DROP, SQLITE_DROP))]
