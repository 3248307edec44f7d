"""Store the sale/share purpose among the purposes of every Meta Conversions API and Google Ads
destination: sending to an ad network is a sale or sharing of personal data, which these
adapters now declare. Routing requires it either way; this makes the stored list say so."""

from django.db import migrations

SALE_SHARE = "sale_share"
# The adapters that sold or shared personal data when this was written (a migration keeps its
# own list: the catalog may change after it).
SELLING_ADAPTERS = ("meta_capi", "google_ads")


def add_sale_share(apps, schema_editor):
    Destination = apps.get_model("destinations", "Destination")
    for destination in Destination.objects.filter(adapter__in=SELLING_ADAPTERS):
        purposes = destination.purposes if isinstance(destination.purposes, list) else []
        if SALE_SHARE not in purposes:
            destination.purposes = sorted({*purposes, SALE_SHARE})
            destination.save(update_fields=["purposes"])


class Migration(migrations.Migration):
    dependencies = [
        ("destinations", "0005_delivery_reason_environment"),
    ]

    # Going back keeps the purpose stored: it only makes the older routing stricter.
    operations = [migrations.RunPython(add_sale_share, migrations.RunPython.noop)]
