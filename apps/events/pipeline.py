"""The event pipeline: validate against the source's plan, stitch identity, attach consent.

Events are taken in batches with ``SELECT … FOR UPDATE SKIP LOCKED``; each batch is one
transaction, so a worker killed mid-batch leaves its events waiting and another run takes
them again. Each event is processed in a savepoint: a failure is recorded on the event (and
retried) without stopping the batch.

An event that names a person erased after it was collected (any identifier of its message
on the suppression list) is deleted when it is taken, before it could link identifiers,
record consent or be routed: the erasure wins over having accepted it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import connection, transaction
from django.utils import timezone

from apps.consent.choices import SALE_SHARE
from apps.consent.gate import anyone_suppressed, suppressed
from apps.consent.selectors import consent_snapshots, consent_state
from apps.consent.services import gpc_record
from apps.destinations.routing import Routed, route
from apps.identity.choices import IdentifierType, Rule
from apps.identity.models import Identifier
from apps.identity.normalise import Ident, InvalidIdentifier, normalise
from apps.identity.selectors import identifier_lookup, standing_links
from apps.identity.services import (
    Sighting,
    identifier_observe,
    identifiers_observe,
    link_record,
    links_record,
    profiles_lock,
    touch_record,
    touches_record,
)
from apps.schemas.selectors import plan_verdict
from apps.schemas.services import findings_record

from . import store
from .attribution import extract
from .choices import Environment, EventStatus, MessageType
from .models import Event, Source
from .store import Outcome, WaitingEvent
from .subjects import message_subjects

log = logging.getLogger(__name__)
BATCH = 1000
MAX_ATTEMPTS = 5


def _ident(kind: str, value) -> Ident | None:
    if value in (None, ""):
        return None
    return _normalised(kind, value) if isinstance(value, str) else _checked(kind, value)


def _checked(kind: str, value) -> Ident | None:
    try:
        return normalise(kind, value)
    except InvalidIdentifier:
        return None


# Within a batch the same identifiers come again (in its events, then in routing): each is
# normalised once. Emptied at the start of every batch, so settings changes are never missed.
_normalised = lru_cache(maxsize=8192)(_checked)


def _evidence(event: Event | Taken) -> tuple[Ident | None, list[tuple[Ident, Ident, str]]]:
    """The event's subject and the identity evidence it carries (nothing is written)."""
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
    return subject, evidence


def _link(event: Event | Taken, evidence) -> None:
    for a, b, kind in evidence:
        link_record(
            a=a,
            b=b,
            rule=kind,
            source=event.source.name,
            event_ref=event.message_id,
            observed_at=event.timestamp,
        )


def _gate(event: Event | Taken) -> bool:
    """Check a track against the source's plan; False when the event is quarantined."""
    source = event.source
    event.violations = []
    event.status = EventStatus.PROCESSED
    if event.type != MessageType.TRACK or not source.plan_id:
        return True
    properties = event.payload.get("properties", {})
    verdict = plan_verdict(source.plan, source.enforcement, event.name, properties)
    event.violations = [
        {"kind": f.kind, "path": f.path, "message": f.message} for f in verdict.findings
    ]
    if verdict.findings:
        findings_record(
            source=source.name,
            event_name=event.name,
            findings=verdict.findings,
            properties=properties,
            plan=source.plan,
            event_ref=event.message_id,
            occurred_at=event.timestamp,
        )
    if verdict.action == "quarantine":
        event.status = EventStatus.QUARANTINED
        return False
    if verdict.action == "flag":
        event.status = EventStatus.FLAGGED
    return True


def _honour_gpc(event: Event | Taken, subject: Ident) -> None:
    state = consent_state(subject)
    sale = next((p for p in state.purposes if p.purpose.code == SALE_SHARE), None)
    # Recorded once: not again while the latest choice is already an opt-out.
    if sale is not None and (sale.record is None or sale.record.granted):
        gpc_record(
            subject=subject, jurisdiction=state.jurisdiction, via=f"collection:{event.source.name}"
        )


def process_one(event: Event | Taken) -> Ident | None:
    """Validate and stitch one event; return the subject whose consent it needs.

    The reference for ``_process_together``, which does the same for a whole batch, and the
    path a batch falls back to when something in it fails."""
    if not _gate(event):
        return None
    subject, evidence = _evidence(event)
    _link(event, evidence)
    if subject is None:
        event.profile_id = None
        return None
    event.profile_id = identifier_observe(subject, source=event.source.name).profile_id
    arrival = _arrival(event, subject)
    if arrival is not None:
        touch_record(
            subject, arrival[0], at=_touched_at(event), last=arrival[1], profile_id=event.profile_id
        )
    return subject


def _touched_at(event):
    """When an arrival touched the person: the event's time, but never later than the event
    reached the console, so a clock running ahead cannot pin the last touch."""
    received = event.received_at
    if received is not None and event.timestamp is not None and event.timestamp > received:
        return received
    return event.timestamp


def _arrival(event: Event | Taken, subject: Ident) -> tuple[dict, bool] | None:
    """Honour GPC, extract the event's attribution; the touch to record on its profile and
    whether it is a marketing arrival (which may overwrite the last touch), or None."""
    if event.gpc:
        _honour_gpc(event, subject)
    touch = extract(event.payload, event.timestamp)
    event.attribution = touch
    if touch is None or touch["channel"] == "internal":
        return None
    return {k: v for k, v in touch.items() if k != "marketing"}, touch["marketing"]


def _failed(event: Event | Taken, exc: Exception) -> None:
    log.exception("event %s failed", event.pk)
    event.status = EventStatus.FAILED
    event.error = f"{type(exc).__name__}: {exc}"[:2000].replace("\x00", "")
    event.attribution = event.profile_id = event.consent = None
    event.violations = []


def _recorded_pairs(evidence) -> set[tuple[Ident, Ident]]:
    """Pairs whose deterministic link is already stored no later than this sighting: for
    them ``link_record`` would change nothing."""
    idents = {i for a, b, _ in evidence for i in (a, b)}
    if not idents:
        return set()
    pk_of = {
        Ident(t, v): pk
        for (t, v), pk in identifier_lookup([(i.type, i.value) for i in idents]).items()
    }
    if not pk_of:
        return set()
    earliest = standing_links(pk_of.values())
    done = set()
    for a, b, at in evidence:
        if a in pk_of and b in pk_of:
            first = earliest.get(frozenset((pk_of[a], pk_of[b])))
            if first is not None and first.observed_at <= at:
                done.add((a, b))
    return done


def _process_together(events: list[Event]) -> list[tuple[Event, Ident]]:
    """``process_one`` for a whole batch: the same outcome, with the identity and touch writes
    grouped (new identifiers in bulk, the links recorded and resolved together, one update per
    profile touched) instead of per event. Only which of the profiles that join keeps a group
    may differ. Any failure raises: the caller then processes the batch event by event."""
    planned: list[tuple[Event, Ident | None, list]] = []
    for event in events:
        event.error = ""
        if _gate(event):
            planned.append((event, *_evidence(event)))
        else:
            event.profile_id = None
    done = _recorded_pairs([(a, b, e.timestamp) for e, _, ev in planned for a, b, _ in ev])
    to_link = [
        (event, subject, [(a, b, rule) for a, b, rule in evidence if (a, b) not in done])
        for event, subject, evidence in planned
    ]
    first_seen: dict[Ident, str] = {}
    ends: dict[Ident, str] = {}
    for event, subject, links in to_link:
        for a, b, _ in links:
            ends.setdefault(a, event.source.name)
            ends.setdefault(b, event.source.name)
        if subject is not None:
            first_seen.setdefault(subject, event.source.name)
    if ends:
        # Before any link is recorded: the batch's identifiers are stored in bulk (those the
        # links join first, in the order the links meet them, as linking one by one would
        # create them), and their profiles locked in id order. Linking and the touches
        # then write profiles already held, so that two processes whose batches meet the
        # same people wait for each other in one order, never in a circle (a deadlock).
        observed = dict(ends)
        for ident, source in first_seen.items():
            observed.setdefault(ident, source)
        profiles_lock(set(identifiers_observe(observed).values()))
    # The links of the whole batch, in the order its events met them, resolved at once.
    links_record(
        [
            Sighting(a, b, rule, event.source.name, event.message_id, event.timestamp)
            for event, _, links in to_link
            for a, b, rule in links
        ]
    )
    stitched = [(event, subject) for event, subject, _ in to_link]
    profile_of = identifiers_observe(first_seen)
    touches: dict[int, list] = defaultdict(list)
    out = []
    for event, subject in stitched:
        if subject is None:
            event.profile_id = None
            continue
        event.profile_id = profile_of[subject]
        arrival = _arrival(event, subject)
        if arrival is not None:
            touches[event.profile_id].append((_touched_at(event), *arrival))
        out.append((event, subject))
    if touches:
        touches_record(touches)
    return out


@dataclass(eq=False, slots=True)
class Taken(WaitingEvent):
    """A waiting event as a batch holds it: what the store read, and what processing writes
    back (``_write_back``)."""

    source: Source | None = None
    status: str = EventStatus.RECEIVED
    violations: list = field(default_factory=list)
    consent: dict | None = None
    profile_id: int | None = None
    attribution: dict | None = None
    error: str = ""
    processed_at: dt.datetime | None = None

    @property
    def pk(self) -> int:
        return self.id


def _take(limit: int) -> list[Taken]:
    """Lock up to ``limit`` waiting events (others' locked ones are skipped), oldest first."""
    return store.take(limit, max_attempts=MAX_ATTEMPTS, row_type=Taken)


def _drop_suppressed(events: list[Taken]) -> list[Taken]:
    """Delete the events that name a suppressed (erased) person, and stop and scrub what was
    routed for them as erasure does; return the others."""
    if not events or not anyone_suppressed():
        return events
    named = [
        message_subjects(e.payload, user_id=e.user_id, anonymous_id=e.anonymous_id) for e in events
    ]
    blocked = suppressed(set().union(*named))
    if not blocked:
        return events
    from apps.destinations.choices import UNFINISHED, DeliveryStatus, FilterReason
    from apps.destinations.models import Delivery

    gone = [e.pk for e, subjects in zip(events, named, strict=True) if subjects & blocked]
    routed = Delivery.objects.filter(event_id__in=gone)
    routed.filter(status__in=(*UNFINISHED, DeliveryStatus.DEAD)).update(
        status=DeliveryStatus.FILTERED, reason=FilterReason.SUPPRESSION, next_attempt_at=None
    )
    routed.update(payload=None, consent=None, subject="erased", message_id="", event_id=None)
    Event.objects.filter(pk__in=gone).delete()
    log.info("deleted %d events of erased people", len(gone))
    dropped = set(gone)
    return [e for e in events if e.pk not in dropped]


def process_batch(limit: int = BATCH) -> int:
    """Process up to ``limit`` waiting events; return how many were taken (those deleted
    because they name an erased person included)."""
    _normalised.cache_clear()
    own = not connection.in_atomic_block
    with transaction.atomic():
        if own and connection.vendor == "postgresql":
            _commit_without_waiting()
        taken_now = _take(limit)
        events = _drop_suppressed(taken_now)
        sources = Source.objects.select_related("plan").in_bulk({e.source_id for e in events})
        now = timezone.now()
        work = []
        for event in events:
            event.source = sources[event.source_id]
            event.attempts += 1
            event.processed_at = now
            if isinstance(event.payload, dict):
                work.append(event)
            else:
                _failed(event, ValueError("The stored message is not a readable JSON object."))
        try:
            with transaction.atomic():
                needs_consent = _process_together(work)
        except Exception:  # something failed for the batch as a whole: isolate it event by event
            log.exception("batch failed as a whole; processing its events one by one")
            needs_consent = []
            for event in work:
                event.attribution = event.profile_id = event.consent = None
                event.violations, event.error = [], ""
                try:
                    with transaction.atomic():
                        subject = process_one(event)
                        event.error = ""
                    if subject is not None:
                        needs_consent.append((event, subject))
                except Exception as exc:  # recorded on the event, retried later
                    _failed(event, exc)
        # The purposes granted at collection, for the whole batch at once.
        snapshots = consent_snapshots([(s, e.received_at) for e, s in needs_consent])
        for (event, _), snapshot in zip(needs_consent, snapshots, strict=True):
            event.consent = {**snapshot, SALE_SHARE: False} if event.gpc else snapshot
        _conclude(events, dict(needs_consent))
    return len(taken_now)


def _conclude(events: list[Taken], subjects: dict) -> None:
    """Route the batch's final events and write back every outcome, in the batch's
    transaction: every destination gets a delivery or a reason. Should that fail, it is done
    event by event, and the event it fails for is recorded as failed with its error (routed
    as failed once it is past its last attempt): one event never undoes its batch."""
    items = {}
    for event in events:
        if _final(event):
            try:
                items[event] = _routed(event, subjects.get(event))
            except Exception as exc:  # routed as failed below, if this was its last attempt
                _failed(event, exc)
                if _final(event):
                    items[event] = _routed_failed(event)
    try:
        with transaction.atomic():
            # Routing, in the same transaction: every destination gets a delivery or a reason.
            route(list(items.values()))
            _write_back(events)
        return
    except Exception:
        log.exception("routing or writing back the batch failed; concluding event by event")
    for event in events:
        try:
            with transaction.atomic():
                if event in items:
                    route([items[event]])
                _write_back([event])
            continue
        except Exception as exc:
            _failed(event, exc)
        with transaction.atomic():
            if _final(event):
                route([_routed_failed(event)])
            _write_back([event])


def _routed_failed(event: Taken) -> Routed:
    """A failed event as routing needs it: filtered for every destination, with no subject."""
    return Routed(
        event_id=event.pk,
        message_id=event.message_id,
        message={"type": event.type, "event": event.name},
        status=EventStatus.FAILED,
        consent=None,
        routed_before=event.processed_before,
    )


def _commit_without_waiting() -> None:
    """The batch's commit does not wait for PostgreSQL to flush it to disk (about a
    twentieth of a batch's time). Should the server itself stop in the fraction of a second
    before it does, the batch is undone as a whole: its events wait again and are processed
    again the same way, with the same deliveries. Any commit that waits flushes everything
    written before it, so nothing recorded later depends on a batch that could still be
    undone; a delivery sent from the batch in that fraction of a second is sent again with
    the same message id, as after a worker killed between a send and its record. Only for a
    batch that is a transaction of its own: inside a caller's, the setting would outlive the
    batch."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


def _write_back(events: list[Taken]) -> None:
    """Each event's outcome: one statement for the batch on PostgreSQL."""
    store.write_back(
        [
            Outcome(
                id=e.id,
                status=e.status,
                violations=e.violations,
                consent=e.consent,
                profile_id=e.profile_id,
                attribution=e.attribution,
                attempts=e.attempts,
                error=e.error,
                processed_at=e.processed_at,
                timestamp=e.timestamp if e.retimed else None,
            )
            for e in events
        ]
    )


def _final(event: Event | Taken) -> bool:
    return event.status != EventStatus.FAILED or event.attempts >= MAX_ATTEMPTS


def _routed(event: Taken, subject: Ident | None) -> Routed:
    """What routing needs of a processed event: its message, consent and identifiers."""
    payload = event.payload or {}
    identifiers = {}
    for kind, value in (("user_id", event.user_id), ("anonymous_id", event.anonymous_id)):
        ident = _ident(kind, value)
        if ident is not None:
            identifiers[kind] = ident.value
    context = payload.get("context")
    traits = payload.get("traits") or (context.get("traits") if isinstance(context, dict) else {})
    if isinstance(traits, dict):
        for kind in ("email", "phone"):
            ident = _ident(kind, traits.get(kind))
            if ident is not None:
                identifiers[kind] = ident.value
    touch = event.attribution or {}
    if touch.get("click_id_type") in ("gclid", "gbraid", "wbraid"):
        identifiers[touch["click_id_type"]] = touch["click_id"]
    return Routed(
        event_id=event.pk,
        message_id=event.message_id,
        message=payload,
        status=event.status,
        consent=event.consent,
        subject=str(subject) if subject else "",
        identifiers=identifiers,
        routed_before=event.processed_before,
        sandbox=event.source.environment == Environment.SANDBOX,
    )


def process_waiting(limit: int = BATCH, max_batches: int = 50) -> int:
    total = 0
    for _ in range(max_batches):
        taken = process_batch(limit)
        total += taken
        if taken < limit:
            break
    return total
