"""Migration operations of the console's own: SQL that only PostgreSQL runs (views, triggers,
grants), with the embedded SQLite database left as it is."""

from __future__ import annotations

from django.db import migrations


def postgres_sql(forwards: str, backwards: str) -> migrations.RunPython:
    """An operation running ``forwards`` on PostgreSQL (``backwards`` when reversed), and
    nothing on other databases. The statements take no parameters."""

    def run(sql: str):
        def on_postgres(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(sql, params=None)

        return on_postgres

    return migrations.RunPython(run(forwards), run(backwards))
