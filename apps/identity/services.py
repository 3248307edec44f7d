"""Writes of the identity graph: observe identifiers, record evidence, review, undo.

Other apps call ``identifier_observe``, ``link_record`` and ``touch_record``; the
people-facing actions (review, manual merge, undo) need ``identity.manage`` and are audited.
No identifier of an erased person (on the suppression list) is created or linked again, by
any path: those calls raise ``SubjectSuppressed``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.access.rules import require
from apps.audit.services import audit_record
from apps.consent.gate import SubjectSuppressed, refuse_suppressed
from apps.identity.errors import IdentityErrorCode
from martech.common.errors import ApplicationError, ConflictError
from martech.common.pgcopy import execute_arrays, raw_cursor, update_rows

from . import store
from .choices import EVIDENCE, LinkKind, LinkStatus, Rule
from .engine.resolver import resolve, state_of
from .models import Identifier, Link, Merge, Profile
from .normalise import Ident, normalise
from .selectors import standing_links

__all__ = [
    "SubjectSuppressed",
    "identifier_observe",
    "identifiers_observe",
    "link_record",
    "link_review",
    "merge_undo",
    "profile_merge",
    "touch_record",
    "touches_record",
]


def _ident(value) -> Ident:
    return value if isinstance(value, Ident) else normalise(*value)


@transaction.atomic
def identifier_observe(ident: Ident | tuple[str, str], *, source: str = "") -> Identifier:
    """Return the identifier, creating it (in a profile of its own) the first time it is seen."""
    ident = _ident(ident)
    found = Identifier.objects.filter(type=ident.type, value=ident.value).first()
    if found is not None:
        return found
    refuse_suppressed([ident])
    profile = Profile.objects.create(state=state_of([ident.type]))
    identifier, created = Identifier.objects.get_or_create(
        type=ident.type, value=ident.value, defaults={"profile": profile, "source": source}
    )
    if not created:
        profile.delete()
    return identifier


@transaction.atomic
def identifiers_observe(idents: dict[Ident, str]) -> dict[Ident, int]:
    """``identifier_observe`` for many identifiers at once (each mapped to the source that saw
    it first); return each one's profile id. Three statements whatever the number: one
    lookup, then for the new ones their profiles and identifiers in bulk. An identifier
    another transaction created in the meantime keeps its profile; the spare one is dropped.
    """
    found = _profiles_of(idents)
    missing = [ident for ident in idents if ident not in found]
    if not missing:
        return found
    refuse_suppressed(missing)
    profiles = Profile.objects.bulk_create(
        [Profile(state=state_of([ident.type])) for ident in missing]
    )
    # ignore_conflicts gives no ids back, so what is stored is read again below. Inserted in
    # one order in every transaction (by type and value, whatever order the profiles were
    # made in): two transactions storing some of the same new identifiers wait for each
    # other at most one way, never in a circle (a deadlock).
    ordered = sorted(zip(missing, profiles, strict=True), key=lambda pair: pair[0])
    Identifier.objects.bulk_create(
        [
            Identifier(type=i.type, value=i.value, profile=p, source=idents[i][:120])
            for i, p in ordered
        ],
        ignore_conflicts=True,
    )
    found.update(_profiles_of(missing))
    spare = {p.pk for p in profiles} - set(found.values())
    if spare:
        Profile.objects.filter(pk__in=spare).delete()
    return found


def profiles_lock(profile_ids: set[int]) -> None:
    """Lock these profiles for the rest of the transaction, in id order (PostgreSQL): a
    transaction that takes every profile it will write this way, before writing any, cannot
    deadlock with another that does the same."""
    if profile_ids and connection.vendor == "postgresql":
        execute_arrays(
            "SELECT id FROM identity_profile WHERE id = ANY(%b::bigint[]) ORDER BY id FOR UPDATE",
            [sorted(profile_ids)],
        )


def _profiles_of(idents, column: str = "profile_id") -> dict[Ident, int]:
    """Each stored identifier's profile id (or, with ``column="id"``, its own id)."""
    found = store.identifier_lookup([(i.type, i.value) for i in idents], column)
    return {Ident(kind, value): ref for (kind, value), ref in found.items()}


# Both identifiers and the pair's stored link, if any, in one statement.
_PAIR = (
    "WITH i AS (SELECT id, type, value FROM identity_identifier "
    "WHERE (type = %s AND value = %s) OR (type = %s AND value = %s)) "
    "SELECT i.type, i.value, i.id, (SELECT l.id FROM identity_link l "
    "WHERE l.a_id IN (SELECT id FROM i) AND l.b_id IN (SELECT id FROM i) AND l.kind = %s "
    "AND l.status = ANY(%s) ORDER BY l.observed_at, l.id LIMIT 1) FROM i"
)


def _stored_pair(a: Ident, b: Ident, kind: str) -> tuple[dict[Ident, int], int | None]:
    """The ids of ``a`` and ``b`` among the stored identifiers, and the id of the earliest
    link of ``kind`` between them that still stands (deterministic: active or conflict;
    probabilistic: pending or rejected), if any."""
    standing = (
        EVIDENCE if kind == LinkKind.DETERMINISTIC else (LinkStatus.PENDING, LinkStatus.REJECTED)
    )
    if connection.vendor == "postgresql":
        with raw_cursor() as cursor:
            rows = cursor.execute(
                _PAIR, [a.type, a.value, b.type, b.value, str(kind), [str(s) for s in standing]]
            ).fetchall()
        return {Ident(t, v): pk for t, v, pk, _ in rows}, next((r[3] for r in rows), None)
    stored = {
        Ident(i.type, i.value): i.pk
        for i in Identifier.objects.filter(
            Q(type=a.type, value=a.value) | Q(type=b.type, value=b.value)
        )
    }
    if len(stored) < 2:
        return stored, None
    link = (
        Link.objects.filter(a__in=stored.values(), b__in=stored.values(), kind=kind)
        .filter(status__in=standing)
        .first()
    )
    return stored, link.pk if link is not None else None


def link_record(
    *,
    a: Ident | tuple[str, str],
    b: Ident | tuple[str, str],
    rule: str,
    kind: str = LinkKind.DETERMINISTIC,
    confidence: float = 1.0,
    source: str = "",
    event_ref: str = "",
    observed_at: dt.datetime | None = None,
    actor=None,
) -> Link:
    """Record evidence that two identifiers are one person.

    Deterministic evidence merges their profiles (within the limits); probabilistic evidence
    waits in the review queue and never merges by itself.
    """
    a, b = _ident(a), _ident(b)
    if a == b:
        raise ApplicationError(
            "A link needs two different identifiers.", code=IdentityErrorCode.SAME_IDENTIFIER
        )
    if kind not in LinkKind.values or rule not in Rule.values:
        raise ApplicationError("Unknown link kind or rule.", code=IdentityErrorCode.INVALID_LINK)
    if not 0 < confidence <= 1:
        raise ApplicationError(
            "Confidence is between 0 and 1.", code=IdentityErrorCode.INVALID_CONFIDENCE
        )
    if kind == LinkKind.DETERMINISTIC:
        confidence = 1.0
    refuse_suppressed([a, b])
    return _link_store(
        a,
        b,
        kind=kind,
        rule=rule,
        confidence=confidence,
        source=source,
        event_ref=event_ref,
        observed_at=observed_at,
        actor=actor,
    )


# No savepoint of its own inside a caller's transaction (the pipeline records many links in
# one batch, each savepoint a round trip there and back): a failure here fails that caller's
# whole block, as the checks above are made before anything is written.
@transaction.atomic(savepoint=False)
def _link_store(
    a: Ident, b: Ident, *, kind, rule, confidence, source, event_ref, observed_at, actor
) -> Link:
    stored, existing_id = _stored_pair(a, b, kind)
    ia = stored.get(a) or identifier_observe(a, source=source).pk
    ib = stored.get(b) or identifier_observe(b, source=source).pk
    observed_at = observed_at or timezone.now()
    if existing_id is not None:
        existing = Link.objects.get(pk=existing_id)
        if kind == LinkKind.PROBABILISTIC and confidence > existing.confidence:
            Link.objects.filter(pk=existing.pk).update(confidence=confidence)
            existing.refresh_from_db()
        if kind == LinkKind.DETERMINISTIC and observed_at < existing.observed_at:
            # The pair's evidence counts from its earliest sighting, whatever arrived first.
            Link.objects.filter(pk=existing.pk).update(observed_at=observed_at)
            resolve({ia, ib})
            existing.refresh_from_db()
        return existing
    link = Link.objects.create(
        a_id=ia,  # by id: the identifiers' profiles may change below, read them afresh
        b_id=ib,
        kind=kind,
        status=LinkStatus.ACTIVE if kind == LinkKind.DETERMINISTIC else LinkStatus.PENDING,
        confidence=confidence,
        rule=rule,
        source=source,
        event_ref=event_ref,
        observed_at=observed_at,
        created_by=actor,
    )
    if kind == LinkKind.DETERMINISTIC:
        resolve({ia, ib}, held=[link])  # brings the link's status and reason up to date
    return link


@dataclass(frozen=True, slots=True)
class Sighting:
    """Deterministic evidence seen once: ``a`` and ``b`` are one person (``rule``), in
    ``event_ref`` of ``source`` at ``observed_at``."""

    a: Ident
    b: Ident
    rule: str
    source: str
    event_ref: str
    observed_at: dt.datetime


@transaction.atomic(savepoint=False)
def links_record(sightings: list[Sighting]) -> None:
    """``link_record`` of each deterministic sighting in turn, with the graph resolved once
    for all of them (the pipeline's batch) instead of once per link. The same links end
    stored, each with its first sighting's rule and provenance and its earliest time, and
    the same people end together (the resolver replays a group's evidence in one canonical
    order whatever order it came in); only which of the profiles that join keeps the group
    may differ, as fewer merge steps are taken."""
    pairs: dict[frozenset, list] = {}
    for seen in sightings:
        if seen.a == seen.b or seen.rule not in Rule.values:
            raise ApplicationError(
                "A link needs two different identifiers and a known rule.",
                code=IdentityErrorCode.INVALID_LINK,
            )
        pair = pairs.setdefault(frozenset((seen.a, seen.b)), [seen, seen.observed_at])
        pair[1] = min(pair[1], seen.observed_at)
    if not pairs:
        return
    idents = {i: s.source for s, _ in pairs.values() for i in (s.a, s.b)}
    refuse_suppressed(idents)
    pk_of = _profiles_of(idents, "id")
    if missing := {i: source for i, source in idents.items() if i not in pk_of}:
        identifiers_observe(missing)
        pk_of.update(_profiles_of(missing, "id"))
    standing = standing_links(pk_of.values())
    new, earlier, seeds = [], [], set()
    for seen, at in pairs.values():
        a, b = pk_of[seen.a], pk_of[seen.b]
        stored = standing.get(frozenset((a, b)))
        if stored is None:
            new.append(
                Link(
                    a_id=a,
                    b_id=b,
                    kind=LinkKind.DETERMINISTIC,
                    status=LinkStatus.ACTIVE,
                    confidence=1.0,
                    rule=seen.rule,
                    source=seen.source,
                    event_ref=seen.event_ref,
                    observed_at=at,
                )
            )
        elif at < stored.observed_at:
            # The pair's evidence counts from its earliest sighting, whatever arrived first.
            stored.observed_at = at
            earlier.append(stored)
        else:
            continue
        seeds |= {a, b}
    Link.objects.bulk_create(new)
    if earlier:
        update_rows(Link, earlier, ["observed_at"])
    if seeds:
        resolve(seeds)


@transaction.atomic
def link_review(*, actor, link: Link, confirm: bool, note: str = "") -> Link:
    """Confirm a probabilistic link (it becomes deterministic, with the reviewer as
    provenance) or reject it."""
    require(actor, "identity.manage", "review identity links")
    link = Link.objects.select_for_update().get(pk=link.pk)
    if link.status != LinkStatus.PENDING:
        raise ConflictError(
            "This link was already reviewed.", code=IdentityErrorCode.ALREADY_REVIEWED
        )
    link.decided_by, link.decided_at = actor, timezone.now()
    link.reason = note[:300]
    if confirm:
        refuse_suppressed([Ident(link.a.type, link.a.value), Ident(link.b.type, link.b.value)])
        link.kind, link.status, link.rule, link.confidence = (
            LinkKind.DETERMINISTIC,
            LinkStatus.ACTIVE,
            Rule.REVIEWED,
            1.0,
        )
    else:
        link.status = LinkStatus.REJECTED
    link.save()
    audit_record(
        action="identity.link.confirmed" if confirm else "identity.link.rejected",
        target=link,
        metadata={"a": str(link.a), "b": str(link.b), "note": note},
    )
    if confirm:
        resolve({link.a_id, link.b_id})
        link.refresh_from_db()
    return link


@transaction.atomic
def profile_merge(*, actor, profile: Profile, other: Profile, note: str = "") -> Link:
    """Merge two profiles by hand: a deterministic link with the person as provenance."""
    require(actor, "identity.manage", "merge profiles")
    if profile.pk == other.pk:
        raise ApplicationError(
            "Choose two different profiles.", code=IdentityErrorCode.SAME_PROFILE
        )
    a = profile.identifiers.order_by("type", "value").first()
    b = other.identifiers.order_by("type", "value").first()
    if a is None or b is None:
        raise ConflictError(
            "A profile without identifiers cannot be merged.", code=IdentityErrorCode.EMPTY
        )
    link = link_record(
        a=Ident(a.type, a.value),
        b=Ident(b.type, b.value),
        rule=Rule.MANUAL,
        actor=actor,
        source=f"person:{actor.email}",
    )
    audit_record(
        action="identity.profile.merged",
        target=profile,
        metadata={"other": other.pk, "link": link.pk, "status": link.status, "note": note},
    )
    if link.status == LinkStatus.CONFLICT:
        raise ConflictError(
            link.reason, code=IdentityErrorCode.MERGE_CONFLICT, details={"link": link.pk}
        )
    return link


@transaction.atomic
def merge_undo(*, actor, merge: Merge) -> Merge:
    """Undo a merge: its link stops counting, and the group is resolved again."""
    require(actor, "identity.manage", "undo merges")
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at:
        raise ConflictError("This merge was already undone.", code=IdentityErrorCode.ALREADY_UNDONE)
    if merge.link_id is None:
        raise ConflictError("The link behind this merge is gone.", code=IdentityErrorCode.NO_LINK)
    Link.objects.filter(pk=merge.link_id).update(
        status=LinkStatus.UNDONE, decided_by=actor, decided_at=timezone.now()
    )
    merge.undone_at, merge.undone_by = timezone.now(), actor
    merge.save()
    link = merge.link
    resolve({link.a_id, link.b_id})
    audit_record(
        action="identity.merge.undone",
        target=merge.winner,
        metadata={"merge": merge.pk, "loser": merge.loser_id, "link": merge.link_id},
    )
    return merge


@transaction.atomic
def touch_record(
    ident: Ident | tuple[str, str],
    touch: dict,
    *,
    at: dt.datetime,
    last: bool = True,
    profile_id: int | None = None,
) -> Profile:
    """Record an arrival: the first touch stays, the last is overwritten by later marketing
    arrivals (``last=False`` for direct navigation, which may only set the first)."""
    if profile_id is None:  # callers that just resolved the identifier pass its profile
        profile_id = identifier_observe(ident).profile_id
    profile = Profile.objects.select_for_update().get(pk=profile_id)
    stamp = at.isoformat()
    entry = {**touch, "at": stamp}
    changed = []
    if not profile.first_touch or stamp < profile.first_touch.get("at", ""):
        profile.first_touch = entry
        changed.append("first_touch")
    if last and (not profile.last_touch or stamp >= profile.last_touch.get("at", "")):
        profile.last_touch = entry
        changed.append("last_touch")
    if changed:
        profile.save(update_fields=[*changed, "updated_at"])
    return profile


def touches_record(touches: dict[int, list[tuple[dt.datetime, dict, bool]]]) -> None:
    """``touch_record`` for many arrivals at once: for each profile id, its arrivals
    ``(at, touch, last)`` in the order they happened to be processed. The outcome is the
    same as recording them one by one; each profile is locked and read once (only when its
    touches were, which decides) and written once if something changed."""
    with transaction.atomic():
        held = store.touches_hold(touches)
        now = timezone.now()
        changed: list[store.TouchChange] = []
        for profile in held:
            no_first, first_at = profile.no_first, profile.first_at
            no_last, last_at = profile.no_last, profile.last_at
            first = last = None
            for at, touch, is_last in touches[profile.id]:
                stamp = at.isoformat()
                if no_first or stamp < first_at:
                    first, first_at, no_first = {**touch, "at": stamp}, stamp, False
                if is_last and (no_last or stamp >= last_at):
                    last, last_at, no_last = {**touch, "at": stamp}, stamp, False
            if first is not None or last is not None:
                changed.append(store.TouchChange(id=profile.id, first=first, last=last))
        if not changed:
            return
        store.touches_write(changed, at=now)
