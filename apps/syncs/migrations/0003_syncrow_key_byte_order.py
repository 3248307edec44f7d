"""A sync's state is read in key order and merged with the model's rows sorted the same way:
on PostgreSQL the key column compares byte by byte (collation "C"), as SQLite's does."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE syncs_syncrow ALTER COLUMN key TYPE text COLLATE "C"')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE syncs_syncrow ALTER COLUMN key TYPE text COLLATE "default"'
        )


class Migration(migrations.Migration):
    dependencies = [("syncs", "0002_syncs_and_runs")]
    operations = [migrations.RunPython(forwards, backwards)]
