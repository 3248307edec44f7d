"""``activation.profiles``: every standing profile with its identifiers, first and last
touch, and the traits of its latest identify event, taken from what events publishes
(``activation.events``, which already follows merges) rather than from its table."""

from django.db import migrations

from martech.common.postgres_sql import postgres_sql

CREATE = """
CREATE OR REPLACE VIEW activation.profiles AS
SELECT p.id AS profile_id, p.state AS status,
       (SELECT min(i.value) FROM public.identity_identifier i
        WHERE i.profile_id = p.id AND i.type = 'email') AS email,
       (SELECT min(i.value) FROM public.identity_identifier i
        WHERE i.profile_id = p.id AND i.type = 'user_id') AS user_id,
       t.traits, p.first_touch, p.last_touch,
       p.first_touch ->> 'channel' AS first_touch_channel,
       p.last_touch ->> 'channel' AS last_touch_channel,
       p.first_touch ->> 'at' AS first_touch_at,
       p.last_touch ->> 'at' AS last_touch_at,
       p.created_at, p.updated_at
FROM public.identity_profile p
LEFT JOIN (
    SELECT ev.profile_id, ev.traits,
           row_number() OVER (PARTITION BY ev.profile_id
                              ORDER BY ev."timestamp" DESC, ev.event_id DESC) AS n
    FROM activation.events ev
    WHERE ev.type = 'identify' AND ev.profile_id IS NOT NULL
) t ON t.profile_id = p.id AND t.n = 1
WHERE p.merged_into_id IS NULL;
"""

DROP = "DROP VIEW IF EXISTS activation.profiles"


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0004_activation_identity_views"),
        ("events", "0006_activation_events"),  # the events it takes the traits from
    ]

    operations = [postgres_sql(CREATE, DROP)]
