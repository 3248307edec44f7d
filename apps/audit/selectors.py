"""Reads of the audit log, restricted to what the user may see."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models

from apps.access.rules import require, require_to_see
from martech.common.errors import NotFoundError

from .filters import AuditEventFilter
from .models import AuditEvent

CAPABILITY = "audit.view"


def _base():
    return AuditEvent.objects.select_related("actor", "target_type")


def audit_event_list(*, user, filters: dict | None = None) -> models.QuerySet[AuditEvent]:
    """Return the audit events ``user`` may read, filtered; refuse users without audit.view."""
    require(user, CAPABILITY, "read the audit log")
    return AuditEventFilter(filters or {}, queryset=_base()).qs


def audit_event_get(*, user, pk: int) -> AuditEvent:
    """Return one audit event ``user`` may read (404 without audit.view, like any unseen one)."""
    require_to_see(user, CAPABILITY, "No such audit event.")
    event = _base().filter(pk=pk).first()
    if event is None:
        raise NotFoundError("No such audit event.")
    return event


def audit_history_for(*, user, target: models.Model, limit: int = 20) -> list[AuditEvent]:
    """Return the latest audit events about ``target``, or none if ``user`` may not read them."""
    if not user.has_perm(CAPABILITY):
        return []
    target_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
    return list(_base().filter(target_type=target_type, target_id=str(target.pk))[:limit])
