"""What identity publishes in schema ``activation`` (PostgreSQL; the embedded mode composes
the same from ``apps.identity.selectors``):

- ``activation.profile_ids``: every profile id ever recorded, ``profile_id``, with
  ``merged_into_id``, the profile it was merged into (null while it stands). Other apps'
  views follow merges through it.
- ``activation.identifiers``: ``profile_id``, ``type``, ``value``, ``source``,
  ``first_seen``.

``activation.profiles`` reads ``activation.events`` and comes after it (``0005``).
"""

from django.db import migrations

from martech.common.postgres_sql import postgres_sql

CREATE = """
CREATE OR REPLACE VIEW activation.profile_ids AS
SELECT p.id AS profile_id, p.merged_into_id
FROM public.identity_profile p;

CREATE OR REPLACE VIEW activation.identifiers AS
SELECT i.profile_id, i.type, i.value, i.source, i.first_seen
FROM public.identity_identifier i;
"""

DROP = "DROP VIEW IF EXISTS activation.identifiers, activation.profile_ids"


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0003_profile_fillfactor"),
        ("syncs", "0004_activation_views"),  # the schema and who may read it
    ]

    operations = [postgres_sql(CREATE, DROP)]
