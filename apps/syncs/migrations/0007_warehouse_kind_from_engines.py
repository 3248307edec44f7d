"""A warehouse's kind is any engine registered in ``apps.syncs.warehouses`` (checked by the
services, so a new engine needs no migration); its credentials are a dict of that engine's
fields. What is stored stays as it is (PostgreSQL's ``{"dsn": …}``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("syncs", "0006_run_number"),
    ]

    operations = [
        migrations.AlterField(
            model_name="warehouse",
            name="display",
            field=models.CharField(
                blank=True,
                help_text="Host, account, project or database: no secret.",
                max_length=300,
            ),
        ),
        migrations.AlterField(
            model_name="warehouse",
            name="dsn_token",
            field=models.TextField(blank=True, help_text="Encrypted credentials; never shown."),
        ),
        migrations.AlterField(
            model_name="warehouse",
            name="kind",
            field=models.CharField(max_length=20),
        ),
    ]
