"""The suppression list's and the erasure requests' hashes become keyed: each stored SHA-256
is wrapped with HMAC-SHA256 under the keys of MARTECH_SUPPRESSION_KEYS (what a new hash is),
and records the key id."""

from django.db import migrations, models

import apps.erasure.suppression


def wrap(apps, schema_editor):
    from apps.erasure.suppression import UNKEYED, current_key_id, rewrap

    newest = current_key_id()
    for name, field in (
        ("Suppression", "value_hash"),
        ("ErasureRequest", "subject_hash"),
        ("ErasureIdentifier", "value_hash"),
    ):
        model = apps.get_model("erasure", name)
        for pk, value_hash in model.objects.filter(key_id=UNKEYED).values_list("pk", field):
            model.objects.filter(pk=pk).update(
                **{field: rewrap(value_hash, UNKEYED), "key_id": newest}
            )


class Migration(migrations.Migration):
    dependencies = [("erasure", "0001_initial")]

    operations = [
        # Rows stored before: plain SHA-256, key id "" until wrapped below.
        migrations.AddField(
            model_name="erasurerequest",
            name="key_id",
            field=models.CharField(
                default="", help_text="The key the hashes are under.", max_length=16
            ),
        ),
        migrations.AddField(
            model_name="erasureidentifier",
            name="key_id",
            field=models.CharField(
                default="", help_text="The key the hash is under.", max_length=16
            ),
        ),
        migrations.AddField(
            model_name="suppression",
            name="key_id",
            field=models.CharField(
                default="", help_text="The key the hash is under.", max_length=16
            ),
        ),
        migrations.RunPython(wrap, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="erasurerequest",
            name="key_id",
            field=models.CharField(
                default=apps.erasure.suppression.current_key_id,
                help_text="The key the hashes are under.",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="erasureidentifier",
            name="key_id",
            field=models.CharField(
                default=apps.erasure.suppression.current_key_id,
                help_text="The key the hash is under.",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="suppression",
            name="key_id",
            field=models.CharField(
                default=apps.erasure.suppression.current_key_id,
                help_text="The key the hash is under.",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="erasurerequest",
            name="subject_hash",
            field=models.CharField(db_index=True, help_text="Keyed hash.", max_length=64),
        ),
        migrations.AlterField(
            model_name="erasureidentifier",
            name="value_hash",
            field=models.CharField(help_text="Keyed hash of type:value.", max_length=64),
        ),
        migrations.AlterField(
            model_name="suppression",
            name="value_hash",
            field=models.CharField(
                help_text="Keyed hash (HMAC-SHA256) of type:value", max_length=64, unique=True
            ),
        ),
    ]
