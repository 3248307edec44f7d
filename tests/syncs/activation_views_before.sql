-- The activation views as syncs.0004_activation_views created them before each app
-- published its own: what a database migrated then carries.
CREATE SCHEMA IF NOT EXISTS activation;

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
LEFT JOIN public.identity_profile pr ON pr.id = e.profile_id
WHERE e.status IN ('processed', 'flagged');

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
    SELECT COALESCE(pr.merged_into_id, e.profile_id) AS profile_id,
           e.payload -> 'traits' AS traits,
           row_number() OVER (PARTITION BY COALESCE(pr.merged_into_id, e.profile_id)
                              ORDER BY e."timestamp" DESC, e.id DESC) AS n
    FROM public.events_event e
    LEFT JOIN public.identity_profile pr ON pr.id = e.profile_id
    WHERE e.type = 'identify' AND e.profile_id IS NOT NULL AND e.status IN ('processed', 'flagged')
) t ON t.profile_id = p.id AND t.n = 1
WHERE p.merged_into_id IS NULL;

CREATE OR REPLACE VIEW activation.identifiers AS
SELECT i.profile_id, i.type, i.value, i.source, i.first_seen
FROM public.identity_identifier i;

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
