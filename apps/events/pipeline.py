"""The event pipeline: validate against the source's plan, stitch identity, attach consent.

Events are taken in batches with ``SELECT … FOR UPDATE SKIP LOCKED``; each batch is one
transaction, so a worker killed mid-batch leaves its events waiting and another run takes
them again. Each event is processed in a savepoint: a failure is recorded on the event (and
retried) without stopping the batch.
"""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from apps.consent.choices import SALE_SHARE
from apps.consent.selectors import consent_snapshots, consent_state
from apps.consent.services import gpc_record
from apps.identity.choices import IdentifierType, Rule
from apps.identity.models import Identifier
from apps.identity.normalise import Ident, InvalidIdentifier, normalise
from apps.identity.services import identifier_observe, link_record, touch_record
from apps.schemas.engine.validate import compiled_plan, gate
from apps.schemas.services import findings_record

from .attribution import extract
from .choices import EventStatus, MessageType
from .models import Event

log = logging.getLogger(__name__)
BATCH = 500
MAX_ATTEMPTS = 5


def _ident(kind: str, value) -> Ident | None:
    if value in (None, ""):
        return None
    try:
        return normalise(kind, value)
    except InvalidIdentifier:
        return None


def _identity(event: Event) -> tuple[Ident | None, int | None]:
    """Apply the event's identity evidence; return its subject and profile."""
    payload = event.payload
    user = _ident(IdentifierType.USER_ID, event.user_id)
    anonymous = _ident(IdentifierType.ANONYMOUS_ID, event.anonymous_id)
    evidence = []
    if event.type == MessageType.ALIAS and user:
        # previousId is an earlier user id if the graph knows one, else an anonymous id.
        previous = str(payload.get("previousId"))
        known = Identifier.objects.filter(type=IdentifierType.USER_ID, value=previous).exists()
        earlier = _ident(IdentifierType.USER_ID if known else IdentifierType.ANONYMOUS_ID, previous)
        if earlier and earlier != user:
            evidence.append((earlier, user, Rule.ALIAS))
    rule = Rule.IDENTIFY if event.type == MessageType.IDENTIFY else Rule.SAME_EVENT
    if user and anonymous:
        evidence.append((anonymous, user, rule))
    traits = payload.get("traits") or (payload.get("context") or {}).get("traits") or {}
    email = _ident(IdentifierType.EMAIL, traits.get("email")) if isinstance(traits, dict) else None
    subject = user or anonymous
    if email and subject:
        evidence.append((subject, email, rule))
    for a, b, kind in evidence:
        link_record(a=a, b=b, rule=kind, source=event.source.name, event_ref=event.message_id,
                    observed_at=event.timestamp)  # fmt: skip
    if subject is None:
        return None, None
    return subject, identifier_observe(subject, source=event.source.name).profile_id


def process_one(event: Event) -> Ident | None:
    """Validate and stitch one event; return the subject whose consent it needs."""
    source = event.source
    if event.type == MessageType.TRACK and source.plan_id:
        properties = event.payload.get("properties", {})
        verdict = gate(compiled_plan(source.plan), source.enforcement, event.name, properties)
        event.violations = [
            {"kind": f.kind, "path": f.path, "message": f.message} for f in verdict.findings
        ]
        if verdict.findings:
            findings_record(
                source=source.name, event_name=event.name, findings=verdict.findings,
                properties=properties, plan=source.plan, event_ref=event.message_id,
                occurred_at=event.timestamp,
            )  # fmt: skip
        if verdict.action == "quarantine":
            event.status = EventStatus.QUARANTINED
            return None
        event.status = EventStatus.FLAGGED if verdict.action == "flag" else EventStatus.PROCESSED
    else:
        event.violations = []
        event.status = EventStatus.PROCESSED
    subject, event.profile_id = _identity(event)
    if subject is None:
        return None
    if event.gpc:
        state = consent_state(subject)
        sale = next((p for p in state.purposes if p.purpose.code == SALE_SHARE), None)
        # Recorded once: not again while the latest choice is already an opt-out.
        if sale is not None and (sale.record is None or sale.record.granted):
            gpc_record(subject=subject, jurisdiction=state.jurisdiction,
                       via=f"collection:{source.name}")  # fmt: skip
    touch = extract(event.payload, event.timestamp)
    event.attribution = touch
    if touch is not None and touch["channel"] != "internal":
        recorded = {k: v for k, v in touch.items() if k != "marketing"}
        touch_record(subject, recorded, at=event.timestamp, last=touch["marketing"],
                     profile_id=event.profile_id)  # fmt: skip
    return subject


_WRITE_BACK = (
    "UPDATE events_event SET status = %s, violations = %s, consent = %s, profile_id = %s, "
    "attribution = %s, attempts = %s, error = %s, processed_at = %s WHERE id = %s"
)


def process_batch(limit: int = BATCH) -> int:
    """Process up to ``limit`` waiting events; return how many were taken."""
    with transaction.atomic():
        events = list(
            Event.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("source", "source__plan")
            .filter(status__in=[EventStatus.RECEIVED, EventStatus.FAILED],
                    attempts__lt=MAX_ATTEMPTS)
            .order_by("id")[:limit]
        )  # fmt: skip
        now = timezone.now()
        needs_consent = []
        for event in events:
            event.attempts += 1
            try:
                with transaction.atomic():
                    subject = process_one(event)
                    event.error = ""
                if subject is not None:
                    needs_consent.append((event, subject))
            except Exception as exc:  # recorded on the event, retried later
                log.exception("event %s failed", event.pk)
                event.status = EventStatus.FAILED
                event.error = f"{type(exc).__name__}: {exc}"[:2000]
                event.attribution = event.profile_id = event.consent = None
            event.processed_at = now
        # The purposes granted at collection, for the whole batch at once.
        snapshots = consent_snapshots([(s, e.received_at) for e, s in needs_consent])
        for (event, _), snapshot in zip(needs_consent, snapshots, strict=True):
            event.consent = {**snapshot, SALE_SHARE: False} if event.gpc else snapshot
        rows = [
            (e.status, Jsonb(e.violations), Jsonb(e.consent) if e.consent is not None else None,
             e.profile_id, Jsonb(e.attribution) if e.attribution is not None else None,
             e.attempts, e.error, e.processed_at, e.pk)
            for e in events
        ]  # fmt: skip
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.executemany(_WRITE_BACK, rows)
        else:
            fields = ["status", "violations", "consent", "profile_id", "attribution",
                      "attempts", "error", "processed_at"]  # fmt: skip
            Event.objects.bulk_update(events, fields)
    return len(events)


def process_waiting(limit: int = BATCH, max_batches: int = 50) -> int:
    total = 0
    for _ in range(max_batches):
        taken = process_batch(limit)
        total += taken
        if taken < limit:
            break
    return total
