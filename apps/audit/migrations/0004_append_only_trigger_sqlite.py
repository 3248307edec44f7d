"""On SQLite (the embedded mode), refuse UPDATE and DELETE of audit events too."""

from django.db import migrations

CREATE = [
    """CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_update
       BEFORE UPDATE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_delete
       BEFORE DELETE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (DELETE refused)'); END""",
]
DROP = [
    "DROP TRIGGER IF EXISTS audit_auditevent_no_update",
    "DROP TRIGGER IF EXISTS audit_auditevent_no_delete",
]


def _on_sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_drop_django_permission")]

    operations = [migrations.RunPython(_on_sqlite(CREATE), _on_sqlite(DROP))]
