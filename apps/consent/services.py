"""Writes of the consent ledger: record a choice (and a GPC signal); manage purposes.

No choice is recorded for an erased person (an identifier on the suppression list), by any
path (the collection API, the API, the console): ``consent_record`` raises
``subject_suppressed``, as collection refuses their messages."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from apps.access.rules import require
from apps.audit.services import audit_record, audit_snapshot
from apps.consent.errors import ConsentErrorCode
from apps.identity.normalise import Ident, normalise
from apps.identity.services import identifier_observe
from martech.common.errors import ApplicationError, ConflictError

from .choices import SALE_SHARE, Jurisdiction, LegalBasis, Source
from .gate import refuse_suppressed
from .models import ConsentRecord, Purpose

CLOCK_SKEW = dt.timedelta(minutes=5)
PURPOSE_FIELDS = (
    "code",
    "name",
    "description",
    "legal_basis",
    "default_gdpr",
    "default_ccpa",
    "default_other",
    "position",
    "is_active",
)


def _purpose(code: str) -> Purpose:
    purpose = Purpose.objects.filter(code=code).first()
    if purpose is None or not purpose.is_active:
        raise ApplicationError(
            f"Unknown purpose {code!r}.",
            code=ConsentErrorCode.UNKNOWN_PURPOSE,
            details={"purpose": code},
        )
    return purpose


@transaction.atomic
def consent_record(
    *,
    subject: Ident | tuple[str, str],
    purpose: str,
    granted: bool,
    source: str,
    jurisdiction: str,
    notice_version: str = "",
    evidence: dict | None = None,
    occurred_at: dt.datetime | None = None,
    actor=None,
    via: str = "",
) -> ConsentRecord:
    """Append one choice to the ledger. The subject joins the identity graph, so the choice
    follows them through later merges.

    Audited as ``consent.record.created`` in the same transaction: by ``actor`` when a person
    records it, otherwise by the running context's system actor (the collecting source, or
    the pipeline's task).
    """
    subject = subject if isinstance(subject, Ident) else normalise(*subject)
    refuse_suppressed([subject])
    if source not in Source.values:
        raise ApplicationError(f"Unknown source {source!r}.", code=ConsentErrorCode.UNKNOWN_SOURCE)
    if jurisdiction not in Jurisdiction.values:
        raise ApplicationError(
            f"Unknown jurisdiction {jurisdiction!r}.", code=ConsentErrorCode.JURISDICTION
        )
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + CLOCK_SKEW:
        raise ApplicationError(
            "The choice cannot be in the future.", code=ConsentErrorCode.FUTURE_CHOICE
        )
    record = ConsentRecord.objects.create(
        identifier_type=subject.type,
        identifier_value=subject.value,
        purpose=_purpose(purpose),
        granted=granted,
        source=source,
        jurisdiction=jurisdiction,
        notice_version=notice_version.strip(),
        evidence=evidence or {},
        occurred_at=occurred_at,
        received_at=now,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        via=via,
    )
    identifier_observe(subject, source=via or source)
    # The subject's identifier stays out of the audit log (it outlives an erasure); the
    # record it points to holds it, and erasure removes that.
    audit_record(
        action="consent.record.created",
        target=record,
        target_repr=f"{purpose} {'granted' if granted else 'denied'} ({subject.type})",
        metadata={
            "purpose": purpose,
            "granted": granted,
            "source": source,
            "jurisdiction": jurisdiction,
            "identifier_type": subject.type,
            "notice_version": record.notice_version,
            "via": via,
        },
        actor=record.recorded_by,
    )
    return record


def gpc_record(
    *, subject: Ident | tuple[str, str], jurisdiction: str, actor=None, via: str = ""
) -> ConsentRecord:
    """A request carried ``Sec-GPC: 1``: record an opt-out of sale and sharing."""
    return consent_record(
        subject=subject,
        purpose=SALE_SHARE,
        granted=False,
        source=Source.GPC,
        jurisdiction=jurisdiction,
        evidence={"header": "Sec-GPC: 1"},
        actor=actor,
        via=via,
    )


def _validate_purpose(purpose: Purpose) -> None:
    if purpose.legal_basis not in LegalBasis.values:
        raise ApplicationError("Unknown legal basis.", code=ConsentErrorCode.LEGAL_BASIS)
    if Purpose.objects.filter(code=purpose.code).exclude(pk=purpose.pk).exists():
        raise ConflictError(
            f"A purpose {purpose.code} exists.", code=ConsentErrorCode.PURPOSE_EXISTS
        )


@transaction.atomic
def purpose_create(*, actor, **fields) -> Purpose:
    require(actor, "consent.manage_purposes", "define purposes")
    purpose = Purpose(**fields)
    _validate_purpose(purpose)
    purpose.save()
    audit_record(
        action="consent.purpose.created",
        target=purpose,
        after=audit_snapshot(purpose, PURPOSE_FIELDS),
    )
    return purpose


@transaction.atomic
def purpose_update(*, actor, purpose: Purpose, **changes) -> Purpose:
    require(actor, "consent.manage_purposes", "change purposes")
    purpose = Purpose.objects.select_for_update().get(pk=purpose.pk)
    before = audit_snapshot(purpose, PURPOSE_FIELDS)
    if "code" in changes and changes["code"] != purpose.code and purpose.records.exists():
        raise ConflictError(
            "The code of a purpose with recorded choices cannot change.",
            code=ConsentErrorCode.PURPOSE_IN_USE,
        )
    for key, value in changes.items():
        if key not in PURPOSE_FIELDS:
            raise ValueError(key)
        setattr(purpose, key, value)
    _validate_purpose(purpose)
    purpose.save()
    audit_record(
        action="consent.purpose.updated",
        target=purpose,
        before=before,
        after=audit_snapshot(purpose, PURPOSE_FIELDS),
    )
    return purpose
