"""The activation role reads every view created in schema ``activation`` from now on.

A database whose ``0004_activation_views`` ran before the views moved to the apps that own
their tables granted SELECT on the four views it made, one by one: the views the apps'
migrations add since (``activation.profile_ids``) need the default privileges that
``0004`` now sets. On any other database this repeats what ``0004`` did."""

import importlib

from django.db import migrations

roles = importlib.import_module("apps.syncs.migrations.0004_activation_views")


def grant(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    roles.grant_reads(schema_editor, roles.activation_role()[0])


class Migration(migrations.Migration):
    dependencies = [("syncs", "0007_warehouse_kind_from_engines")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
