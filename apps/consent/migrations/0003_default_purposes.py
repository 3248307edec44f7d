"""The purposes every installation starts with; admins edit them and add their own."""

from django.db import migrations

from apps.consent.defaults import PURPOSES


def create(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    for position, (code, name, basis, gdpr, ccpa, other, description) in enumerate(PURPOSES):
        Purpose.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "legal_basis": basis,
                "default_gdpr": gdpr,
                "default_ccpa": ccpa,
                "default_other": other,
                "description": description,
                "position": position * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_append_only")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
