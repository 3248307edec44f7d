"""Reads of the consent ledger: the state in force for a subject, derived from the records
of every identifier of their profile, latest choice first."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.access.rules import require, require_to_see
from apps.identity.normalise import Ident
from apps.identity.selectors import linked_identifiers, profiles_members
from martech.common.errors import NotFoundError
from martech.common.pgcopy import execute_arrays

from .models import ConsentRecord, Purpose


@dataclass
class PurposeState:
    purpose: Purpose
    granted: bool
    record: ConsentRecord | None  # None: the jurisdiction's default applies
    reason: str


@dataclass
class ConsentState:
    subject: Ident
    identifiers: list[Ident]
    jurisdiction: str
    purposes: list[PurposeState]

    def granted(self) -> list[str]:
        return [p.purpose.code for p in self.purposes if p.granted]


def _records_of(identifiers: list[Ident]) -> QuerySet[ConsentRecord]:
    match = reduce(or_, (Q(identifier_type=i.type, identifier_value=i.value) for i in identifiers))
    return ConsentRecord.objects.filter(match).select_related("purpose", "recorded_by")


def consent_state(subject: Ident, *, at: dt.datetime | None = None) -> ConsentState:
    """Each purpose granted or not for ``subject`` at ``at`` (now), and why."""
    identifiers = linked_identifiers(subject)
    records = _records_of(identifiers)
    if at is not None:
        records = records.filter(occurred_at__lte=at)
    latest: dict[int, ConsentRecord] = {}
    newest = None
    for record in records.order_by("-occurred_at", "-id"):
        newest = newest or record
        latest.setdefault(record.purpose_id, record)
    jurisdiction = newest.jurisdiction if newest else settings.CONSENT_DEFAULT_JURISDICTION
    states = []
    for purpose in Purpose.objects.filter(is_active=True):
        record = latest.get(purpose.pk)
        if record is None:
            granted = purpose.default_for(jurisdiction)
            reason = f"No choice recorded: the {jurisdiction.upper()} default applies."
        else:
            granted = record.granted
            via = "" if record.subject == str(subject) else f" under {record.subject}"
            reason = (
                f"{'Granted' if granted else 'Denied'} ({record.get_source_display().lower()})"
                f"{via} on {record.occurred_at:%Y-%m-%d %H:%M}, the latest choice."
            )
        states.append(PurposeState(purpose, granted, record, reason))
    return ConsentState(subject, identifiers, jurisdiction, states)


def consent_snapshot(subject: Ident, *, at: dt.datetime | None = None) -> dict[str, bool]:
    """The purposes in force at ``at`` (collection time), to attach to an event."""
    state = consent_state(subject, at=at or timezone.now())
    return {p.purpose.code: p.granted for p in state.purposes}


def consent_history(subject: Ident) -> QuerySet[ConsentRecord]:
    """Every record of every identifier of the subject's profile, newest first."""
    return _records_of(linked_identifiers(subject)).order_by("-occurred_at", "-id")


def record_list(*, user, filters: dict | None = None) -> QuerySet[ConsentRecord]:
    require(user, "consent.view", "see consent records")
    return ConsentRecord.objects.select_related("purpose", "recorded_by").order_by(
        "-occurred_at", "-id"
    )


def purpose_list(*, user) -> QuerySet[Purpose]:
    require(user, "consent.view", "see purposes")
    return Purpose.objects.all()


def purpose_get(*, user, pk: int) -> Purpose:
    require_to_see(user, "consent.view", "No such purpose.")
    purpose = Purpose.objects.filter(pk=pk).first()
    if purpose is None:
        raise NotFoundError("No such purpose.")
    return purpose


def purpose_names(codes, *, named: dict[str, str] | None = None) -> list[str]:
    """The names people read for purpose ``codes`` ("Email marketing" for email_marketing),
    in the given order; a code no purpose has any more stays as it is. ``named`` (from
    ``purpose_name_map``) saves the query when naming the purposes of many objects."""
    codes = list(codes)
    if named is None:
        named = dict(Purpose.objects.filter(code__in=codes).values_list("code", "name"))
    return [named.get(code, code) for code in codes]


def purpose_name_map() -> dict[str, str]:
    """Every purpose's name by its code."""
    return dict(Purpose.objects.values_list("code", "name"))


def purpose_counts() -> dict[int, dict[str, int]]:
    """Per purpose, how many identifiers' latest choice grants or denies it."""
    later = ConsentRecord.objects.filter(
        identifier_type=OuterRef("identifier_type"),
        identifier_value=OuterRef("identifier_value"),
        purpose=OuterRef("purpose"),
    ).filter(
        Q(occurred_at__gt=OuterRef("occurred_at"))
        | Q(occurred_at=OuterRef("occurred_at"), id__gt=OuterRef("id"))
    )
    rows = (
        ConsentRecord.objects.filter(~Exists(later))
        .values("purpose_id", "granted")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        entry = counts.setdefault(row["purpose_id"], {"granted": 0, "denied": 0})
        entry["granted" if row["granted"] else "denied"] += row["n"]
    return counts


def consent_snapshots(requests: list[tuple[Ident, dt.datetime]]) -> list[dict[str, bool]]:
    """``consent_snapshot`` for many (subject, moment) pairs, for a batch of events: the same
    answers as asking one by one, from one read of the records of every subject's profile
    (one statement on PostgreSQL)."""
    if not requests:
        return []
    records_of = _records_by_subject({s for s, _ in requests})
    purposes = [(p.pk, p.code, p) for p in Purpose.objects.filter(is_active=True)]
    defaults: dict[str, dict[str, bool]] = {}

    def default(jurisdiction: str) -> dict[str, bool]:
        if jurisdiction not in defaults:
            defaults[jurisdiction] = {code: p.default_for(jurisdiction) for _, code, p in purposes}
        return defaults[jurisdiction]

    fallback = settings.CONSENT_DEFAULT_JURISDICTION
    answers = []
    for subject, at in requests:
        latest: dict[int, bool] = {}
        jurisdiction = None
        for occurred_at, _, purpose_id, granted, said in records_of.get(subject, ()):
            if occurred_at > at:
                continue
            if jurisdiction is None:  # the latest record's jurisdiction governs the defaults
                jurisdiction = said
            latest.setdefault(purpose_id, granted)
        base = default(jurisdiction or fallback)
        if not latest:
            answers.append(dict(base))
            continue
        answers.append({code: latest.get(pk, base[code]) for pk, code, _ in purposes})
    return answers


# The consent records of a batch of identifiers: one statement.
_RECORDS = """
SELECT r.identifier_type, r.identifier_value, r.occurred_at, r.id, r.purpose_id, r.granted,
       r.jurisdiction
FROM unnest(%b::text[], %b::text[]) AS m(t, v)
JOIN consent_consentrecord r ON r.identifier_type = m.t AND r.identifier_value = m.v
"""


def _records_by_subject(subjects: set[Ident]) -> dict[Ident, list[tuple]]:
    """For each subject, the records that speak for it (those of every identifier of its
    profile, as the identity graph links them) as (occurred_at, id, purpose id, granted,
    jurisdiction), latest first. Two statements: the profiles' members, then their records."""
    members = profiles_members(subjects)
    speakers: dict[Ident, list[Ident]] = defaultdict(list)
    for subject, idents in members.items():
        for ident in idents:
            speakers[ident].append(subject)
    if connection.vendor == "postgresql":
        wanted = list(speakers)
        rows = execute_arrays(_RECORDS, [[i.type for i in wanted], [i.value for i in wanted]])
    else:
        by_type: dict[str, set[str]] = defaultdict(set)
        for ident in speakers:
            by_type[ident.type].add(ident.value)
        match = reduce(
            or_, (Q(identifier_type=t, identifier_value__in=vs) for t, vs in by_type.items())
        )
        columns = ("identifier_type", "identifier_value", "occurred_at", "id", "purpose_id")
        rows = ConsentRecord.objects.filter(match).values_list(*columns, "granted", "jurisdiction")
    records_of: dict[Ident, list[tuple]] = defaultdict(list)
    for t, v, *record in rows:
        for subject in speakers[Ident(t, v)]:
            records_of[subject].append(tuple(record))
    for records in records_of.values():
        records.sort(key=lambda r: (r[0], r[1]), reverse=True)
    return records_of


def activation_consent_sql() -> str:
    """Each identifier's latest choice per purpose, as a SQLite SELECT over this app's tables
    (the embedded mode's ``activation.consent``; PostgreSQL's view is created by
    ``consent.0005``)."""
    return """
SELECT c.identifier_type AS identifier_type, c.identifier_value AS identifier_value,
       p.code AS purpose, c.granted AS granted, c.jurisdiction AS jurisdiction,
       c.source AS source, c.occurred_at AS occurred_at
FROM (
    SELECT r.*, row_number() OVER (PARTITION BY r.identifier_type, r.identifier_value,
                                                r.purpose_id
                                   ORDER BY r.occurred_at DESC, r.id DESC) AS n
    FROM main.consent_consentrecord r
) c JOIN main.consent_purpose p ON p.id = c.purpose_id
WHERE c.n = 1"""
