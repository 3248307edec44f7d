"""Routing: for each processed event and each enabled destination, decide once whether it
goes there (a pending delivery) or why not (a filtered one, with its reason).

The events pipeline calls ``route`` after a batch. Whether the person is erased and whether
their consent allows the destination is the privacy gate's answer (``apps.consent.gate``).

A delivery of a stored event holds no copy of its message: it is read from the event when it
is sent (``apps.events.selectors.stored_messages``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from django.db import connection, transaction
from django.utils import timezone

from apps.consent import gate
from martech.common.pgcopy import execute_arrays, execute_json, insert_then_skip_conflicts

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
    if not destinations:
        return 0
    blocked = gate.suppressed(i.subject for i in items)
    known = _known(destinations, [i.event_id for i in items if i.routed_before])
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
                (
                    destination.pk,
                    item.event_id,
                    item.message_id,
                    _name(item.message),
                    item.subject,
                    status,
                    reason,
                    item.consent,
                    payload_of(item) if sending else None,
                    now if sending else None,
                    now,
                )
            )
    _insert(first, fresh=True)
    _insert(new)
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


def _known(destinations: list[Destination], event_ids: list[int]) -> dict:
    """The deliveries these events already have: (destination, event) → (id, status)."""
    if not event_ids:
        return {}
    if connection.vendor == "postgresql":
        rows = execute_arrays(
            "SELECT id, destination_id, event_id, status FROM destinations_delivery "
            "WHERE event_id = ANY(%b::bigint[]) AND destination_id = ANY(%b::bigint[])",
            [event_ids, [d.pk for d in destinations]],
        )
    else:
        rows = Delivery.objects.filter(
            destination__in=destinations, event_id__in=event_ids
        ).values_list("pk", "destination_id", "event_id", "status")
    return {(d, e): (pk, status) for pk, d, e, status in rows}


_COLUMNS = (
    "destination_id",
    "event_id",
    "message_id",
    "event_name",
    "subject",
    "status",
    "reason",
    "consent",
    "payload",
    "next_attempt_at",
    "created_at",
)
# One statement for the whole batch (one JSON document of rows); a delivery another run wrote
# in the meantime stays as it is.
_INSERT = (
    f"INSERT INTO destinations_delivery ({', '.join(_COLUMNS)}, attempts, error) "  # noqa: S608
    "SELECT (r->>0)::bigint, (r->>1)::bigint, r->>2, r->>3, r->>4, r->>5, r->>6, "
    "nullif(r->7, 'null'), nullif(r->8, 'null'), (r->>9)::timestamptz, (r->>10)::timestamptz, "
    "0, '' FROM jsonb_array_elements(%s::jsonb) AS r"
)
_ON_CONFLICT = " ON CONFLICT DO NOTHING"


def _insert(rows: list[tuple], *, fresh: bool = False) -> None:
    """Store new deliveries; one another run wrote meanwhile stays as it is. ``fresh``: the
    rows are of events routed for the first time (processed for the first time, under the
    batch's lock), which can have no delivery yet: the conflict check is made only should
    one exist after all."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Delivery.objects.bulk_create(
            [Delivery(**dict(zip(_COLUMNS, row, strict=True))) for row in rows],
            ignore_conflicts=True,
            batch_size=1000,
        )
        return
    if fresh:
        insert_then_skip_conflicts(_INSERT, [orjson.dumps(rows).decode()], on_conflict=_ON_CONFLICT)
        return
    execute_json(_INSERT + _ON_CONFLICT, rows)


def _name(message: dict) -> str:
    kind = message.get("type", "")
    name = message.get("event") or message.get("name") or ""
    return (f"{kind}: {name}" if name and kind != "track" else name or kind)[:200]
