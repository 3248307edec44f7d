"""Profiles leave room in each page for the next version of their rows.

The pipeline rewrites a profile's touch state on every marketing arrival. With pages filled to
the brim, each new version goes to another page, every index gets a new entry, and the table
grows until a vacuum; with room left, the new version stays on its page (a heap-only update)
and the old one is reclaimed there. PostgreSQL only: other databases have no such setting.
"""

from django.db import migrations

FILLFACTOR = 70


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE identity_profile SET (fillfactor = {FILLFACTOR})")


def fill_up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE identity_profile RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("identity", "0002_link_partial_indexes")]

    operations = [migrations.RunPython(leave_room, fill_up, elidable=False)]
