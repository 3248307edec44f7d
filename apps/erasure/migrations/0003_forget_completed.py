"""Requests completed before completion dropped notes and masks drop them now: the masks of
their identifiers and subject, their notes and verification notes (and those of the
duplicates they settled, whose identifiers are already gone). Only hashes, dates, who
handled them and the outcome stay."""

from django.db import migrations


def forget(apps, schema_editor):
    request_model = apps.get_model("erasure", "ErasureRequest")
    identifier_model = apps.get_model("erasure", "ErasureIdentifier")
    settled = request_model.objects.filter(subject_token="").exclude(
        status__in=("received", "verified", "in_progress")
    )
    settled.update(subject_masked="", notes="", verification_note="")
    identifier_model.objects.filter(request__in=settled, token="").update(masked="")


class Migration(migrations.Migration):
    dependencies = [("erasure", "0002_keyed_hashes")]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
