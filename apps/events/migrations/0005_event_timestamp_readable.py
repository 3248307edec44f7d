"""Date by their arrival the events stored with a timestamp no date-time can hold.

Before the collection API checked timestamps, a message could be stored as, for example,
``10000-01-01 13:59:59+00`` (``9999-12-31T23:59:59-14:00``): no page, API or batch could read
such a row. Its client's value stays in the payload's ``originalTimestamp``.
"""

from django.db import migrations

_FIX = (
    "UPDATE events_event SET timestamp = received_at "
    "WHERE timestamp < '0001-01-02 00:00:00+00'::timestamptz "
    "OR timestamp >= '9999-12-31 00:00:00+00'::timestamptz"
)


def date_unreadable(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_FIX)


class Migration(migrations.Migration):
    dependencies = [("events", "0004_event_source_index_covered")]

    operations = [migrations.RunPython(date_unreadable, migrations.RunPython.noop)]
