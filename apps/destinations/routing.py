"""Routing: for each processed event and each enabled destination, decide once whether it
goes there (a pending delivery) or why not (a filtered one, with its reason).

The events pipeline calls ``route`` after a batch. Whether the person is erased and whether
their consent allows the destination is the privacy gate's answer (``apps.consent.gate``).

A delivery of a stored event holds no copy of its message: it is read from the event when it
is sent (``apps.events.selectors.stored_messages``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from apps.consent import gate

from . import store
from .adapters import adapter_for
from .choices import DeliveryStatus, Environment, FilterReason, Sends
from .models import Delivery, Destination

EVENT_TYPES = frozenset({"track", "page", "screen"})
PROFILE_TYPES = frozenset({"identify"})


@dataclass
class Routed:
    """What routing needs to know of one event after the pipeline."""

    event_id: int
    message_id: str
    message: dict
    status: str  # processed, flagged, quarantined, failed (final)
    consent: dict | None
    subject: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)
    # False only for an event processed for the first time: it cannot have a delivery yet.
    routed_before: bool = True
    # From a sandbox source: it may reach sandbox destinations only.
    sandbox: bool = False


@dataclass(frozen=True, slots=True)
class Rules:
    """What routing checks for one destination, worked out once for a whole batch."""

    destination: Destination
    types: frozenset[str]  # message types it takes
    names: frozenset[str]  # track event names it takes; empty: every one
    required_purposes: tuple[str, ...]  # consent purposes it needs, every one granted
    needs: tuple[str, ...]  # identifiers it needs, at least one
    sandbox: bool  # a sandbox destination, which takes sandbox sources' events

    @classmethod
    def of(cls, destination: Destination) -> Rules:
        types = set()
        if destination.sends in (Sends.EVENTS, Sends.BOTH):
            types |= EVENT_TYPES
        if destination.sends in (Sends.PROFILES, Sends.BOTH):
            types |= PROFILE_TYPES
        return cls(
            destination,
            frozenset(types),
            frozenset(destination.event_names or ()),
            destination.required_purposes,
            adapter_for(destination.adapter).needs,
            destination.environment == Environment.SANDBOX,
        )

    def takes(self, message: dict) -> bool:
        kind = message.get("type")
        if kind not in self.types:
            return False
        return not (self.names and kind == "track") or message.get("event") in self.names


def _path(message: dict, dotted: str):
    value = message
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def mapped(destination: Destination, message: dict) -> dict:
    """The destination's field mappings applied: ``{"from": "traits.first_name", "to":
    "firstname"}`` reads a path of the message and writes a vendor field."""
    out = {}
    for rule in destination.mappings:
        value = _path(message, rule.get("from", ""))
        if value is not None:
            out[rule["to"]] = value
    return out


def decide(rules: Rules, item: Routed, blocked: set[str]) -> tuple[str, str]:
    """(status, reason) of ``item`` for the destination whose ``rules`` these are."""
    if item.status == "quarantined":
        return DeliveryStatus.FILTERED, FilterReason.SCHEMA
    if item.status == "failed":
        return DeliveryStatus.FILTERED, FilterReason.FAILED
    if item.sandbox and not rules.sandbox:
        return DeliveryStatus.FILTERED, FilterReason.ENVIRONMENT
    if not rules.takes(item.message):
        return DeliveryStatus.FILTERED, FilterReason.EVENT_FILTER
    if item.subject and item.subject in blocked:
        return DeliveryStatus.FILTERED, FilterReason.SUPPRESSION
    if not gate.allows(rules.required_purposes, item.consent):
        return DeliveryStatus.FILTERED, FilterReason.CONSENT
    if rules.needs and not any(item.identifiers.get(kind) for kind in rules.needs):
        return DeliveryStatus.FILTERED, FilterReason.IDENTIFIER
    return DeliveryStatus.PENDING, ""


def payload_of(item: Routed) -> dict:
    """What a pending delivery keeps to be sent: its kind and the identifiers the event was
    resolved to. The message is read from the stored event when it is sent (not copied into
    every destination's delivery), and the field mappings are applied then."""
    kind = "profile" if item.message.get("type") in PROFILE_TYPES else "event"
    return {"kind": kind, "identifiers": item.identifiers}


@transaction.atomic
def route(items: list[Routed], destinations: list[Destination] | None = None) -> int:
    """Record, for every item and enabled destination, a pending or a filtered delivery.
    Idempotent: an event already routed keeps its delivery, except that a filtered one is
    decided again (a quarantined event that was fixed and replayed). Returns how many
    deliveries are now pending."""
    if not items:
        return 0
    if destinations is None:
        destinations = list(Destination.objects.filter(is_enabled=True))
    # A warehouse is loaded in batches from the events themselves, not from deliveries.
    destinations = [d for d in destinations if not adapter_for(d.adapter).loads_in_batches]
    if not destinations:
        return 0
    blocked = gate.suppressed(i.subject for i in items)
    known = store.known(
        [d.pk for d in destinations], [i.event_id for i in items if i.routed_before]
    )
    now = timezone.now()
    new, first, again, pending = [], [], [], 0
    for destination in destinations:
        rules = Rules.of(destination)
        for item in items:
            status, reason = decide(rules, item, blocked)
            if status == DeliveryStatus.PENDING:
                pending += 1
            seen = known.get((destination.pk, item.event_id))
            if seen is not None:
                if seen[1] == DeliveryStatus.FILTERED:
                    again.append((seen[0], item, status, reason))
                continue
            sending = status == DeliveryStatus.PENDING
            (new if item.routed_before else first).append(
                store.NewDelivery(
                    destination_id=destination.pk,
                    event_id=item.event_id,
                    message_id=item.message_id,
                    event_name=_name(item.message),
                    subject=item.subject,
                    status=status,
                    reason=reason,
                    consent=item.consent,
                    payload=payload_of(item) if sending else None,
                    next_attempt_at=now if sending else None,
                    created_at=now,
                )
            )
    store.insert(first, fresh=True)
    store.insert(new)
    decided_again = [
        Delivery(
            pk=pk,
            status=status,
            reason=reason,
            consent=item.consent,
            payload=payload_of(item) if status == "pending" else None,
            next_attempt_at=now if status == "pending" else None,
        )
        for pk, item, status, reason in again
    ]
    Delivery.objects.bulk_update(
        decided_again,
        ["status", "reason", "consent", "payload", "next_attempt_at"],
        batch_size=500,
    )
    if pending:
        from .tasks import kick

        transaction.on_commit(kick)
    return pending


def _name(message: dict) -> str:
    kind = message.get("type", "")
    name = message.get("event") or message.get("name") or ""
    return (f"{kind}: {name}" if name and kind != "track" else name or kind)[:200]
