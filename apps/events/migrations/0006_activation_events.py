"""``activation.events``: every event the tracking plan let through (processed or flagged),
with its source's name, the stored message's properties, traits and page, the arrival's
campaign, its consent, and the profile it belongs to now: merges are followed through what
identity publishes (``activation.profile_ids``), not through its table. PostgreSQL only;
the embedded mode composes the same from ``apps.events.selectors``."""

from django.db import migrations

from martech.common.postgres_sql import postgres_sql

CREATE = """
CREATE OR REPLACE VIEW activation.events AS
SELECT e.id AS event_id, e.message_id, s.name AS source, e.type, e.name, e.anonymous_id,
       e.user_id, COALESCE(pr.merged_into_id, e.profile_id) AS profile_id, e."timestamp",
       e.received_at,
       e.payload -> 'properties' AS properties, e.payload -> 'traits' AS traits,
       e.payload #>> '{context,page,url}' AS page_url,
       e.payload #>> '{context,page,path}' AS page_path,
       e.payload #>> '{context,page,title}' AS page_title,
       e.payload #>> '{context,page,referrer}' AS referrer,
       e.attribution ->> 'channel' AS channel,
       e.attribution ->> 'source' AS utm_source,
       e.attribution ->> 'medium' AS utm_medium,
       e.attribution ->> 'campaign' AS utm_campaign,
       e.attribution ->> 'content' AS utm_content,
       e.attribution ->> 'term' AS utm_term,
       e.consent
FROM public.events_event e JOIN public.events_source s ON s.id = e.source_id
LEFT JOIN activation.profile_ids pr ON pr.profile_id = e.profile_id
WHERE e.status IN ('processed', 'flagged');
"""

DROP = "DROP VIEW IF EXISTS activation.events"


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0005_event_timestamp_readable"),
        ("identity", "0004_activation_identity_views"),  # merges, as identity publishes them
    ]

    operations = [postgres_sql(CREATE, DROP)]
