"""The privacy gate: may this person's data be processed for these purposes, and are they
suppressed (erased)?

Every path that stores, forwards, replays, syncs or backfills data about a person asks here,
by an ordinary import: the collection API, the pipeline, routing, deliveries, dead-letter
replays, reverse-ETL syncs, consent records and the identity graph. Nothing is registered at
start-up; what the gate needs it imports itself.

Two questions, kept apart because callers ask them at different moments:

- *Suppressed?* ``suppressed`` answers from the erasure app's suppression list (keyed hashes
  of erased people's identifiers, kept in each process's memory; see
  ``apps.erasure.suppression``). ``anyone_suppressed`` says, without a query, when the list
  is known to be empty, so that a hot path need not work out whom its messages name.
  ``refuse_suppressed`` raises ``SubjectSuppressed`` for writes that name a single person.
- *Allowed?* ``allows`` tests a consent snapshot (purpose code -> granted, as attached to an
  event at collection or read now for a replay or a sync) against the purposes a destination
  requires, its adapter's included. ``may_process`` asks both questions of one person now.

A subject is ``type:value`` with the value normalised as the identity graph keys it
(``str(Ident)``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

# The suppression list's reader imports only identity's normaliser and the common kernel, so
# this import never comes back here (erasure's services, which do use the apps above, are not
# imported).
from apps.erasure.suppression import nothing_suppressed, suppressed_subjects
from apps.identity.normalise import Ident, InvalidIdentifier, normalise
from martech.common.errors import ApplicationError

from .errors import ConsentErrorCode
from .selectors import consent_snapshot

__all__ = [
    "SUPPRESSED_MESSAGE",
    "SubjectSuppressed",
    "allows",
    "anyone_suppressed",
    "may_process",
    "refuse_suppressed",
    "subjects_of",
    "suppressed",
]


class SubjectSuppressed(ApplicationError):
    code = ConsentErrorCode.SUBJECT_SUPPRESSED


SUPPRESSED_MESSAGE = "This person asked to be erased; nothing about them is recorded again."


def anyone_suppressed() -> bool:
    """Whether anyone may be on the suppression list: False only when this process knows the
    list is empty (no query), so that callers can skip working out whom they name."""
    return not nothing_suppressed()


def suppressed(subjects: Iterable[str]) -> set[str]:
    """Which of ``subjects`` (``type:value``, normalised) are of erased people."""
    return suppressed_subjects({s for s in subjects if s})


def subjects_of(idents: Iterable[Ident]) -> set[str]:
    """The subjects ``idents`` name: each one, and the address an id holds when it is an
    email address (a ``user_id`` of ``ana@acme.example`` names that address too)."""
    out = set()
    for ident in idents:
        out.add(str(ident))
        if ident.type != "email" and "@" in ident.value:
            with contextlib.suppress(InvalidIdentifier):
                out.add(str(normalise("email", ident.value)))
    return out


def refuse_suppressed(idents: Iterable[Ident]) -> None:
    """Raise ``SubjectSuppressed`` when any of ``idents`` is of an erased person."""
    subjects = subjects_of(idents)
    if subjects and anyone_suppressed() and suppressed(subjects):
        raise SubjectSuppressed(SUPPRESSED_MESSAGE)


def allows(required_purposes: Iterable[str], consent: dict | None) -> bool:
    """Whether ``consent`` (a snapshot: purpose code -> granted) grants every one of
    ``required_purposes``. A purpose the snapshot does not name is not granted. Callers pass
    a destination's ``required_purposes`` (its adapter's included), never its ``purposes``."""
    consent = consent or {}
    return all(consent.get(code) is True for code in required_purposes)


def may_process(subject: Ident, purposes: Iterable[str]) -> bool:
    """Whether ``subject``'s data may be processed now for every one of ``purposes``: not
    erased, and each purpose granted by the consent in force."""
    if anyone_suppressed() and suppressed(subjects_of([subject])):
        return False
    return allows(purposes, consent_snapshot(subject))
