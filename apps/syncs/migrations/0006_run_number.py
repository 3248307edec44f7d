"""Runs are numbered per sync (1, 2, 3 … in the order they were made), not by global id."""

from django.conf import settings
from django.db import migrations, models


def number_existing_runs(apps, schema_editor):
    SyncRun = apps.get_model("syncs", "SyncRun")
    numbered, sync_id, n = [], None, 0
    for run in SyncRun.objects.order_by("sync_id", "created_at", "id").only("id", "sync_id"):
        n = n + 1 if run.sync_id == sync_id else 1
        sync_id = run.sync_id
        run.number = n
        numbered.append(run)
    SyncRun.objects.bulk_update(numbered, ["number"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("syncs", "0005_runrow_skipped_mode"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="number",
            field=models.PositiveIntegerField(
                default=0,
                help_text="The run's place among its sync's runs (1, 2, 3 …): how it is named.",
            ),
        ),
        migrations.RunPython(number_existing_runs, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="syncrun",
            constraint=models.UniqueConstraint(fields=("sync", "number"), name="syncs_run_number"),
        ),
    ]
