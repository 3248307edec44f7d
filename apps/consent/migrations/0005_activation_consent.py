"""``activation.consent``: each identifier's latest choice per purpose (``identifier_type``,
``identifier_value``, ``purpose`` by its code, ``granted``, ``jurisdiction``, ``source``,
``occurred_at``). PostgreSQL only; the embedded mode composes the same from
``apps.consent.selectors``."""

from django.db import migrations

from martech.common.postgres_sql import postgres_sql

CREATE = """
CREATE OR REPLACE VIEW activation.consent AS
SELECT c.identifier_type, c.identifier_value, p.code AS purpose, c.granted, c.jurisdiction,
       c.source, c.occurred_at
FROM (
    SELECT r.*, row_number() OVER (PARTITION BY r.identifier_type, r.identifier_value,
                                                r.purpose_id
                                   ORDER BY r.occurred_at DESC, r.id DESC) AS n
    FROM public.consent_consentrecord r
) c JOIN public.consent_purpose p ON p.id = c.purpose_id
WHERE c.n = 1;
"""

DROP = "DROP VIEW IF EXISTS activation.consent"


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0004_refuse_truncate"),
        ("syncs", "0004_activation_views"),  # the schema and who may read it
    ]

    operations = [postgres_sql(CREATE, DROP)]
