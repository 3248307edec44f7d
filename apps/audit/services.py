"""The one audit writer. Services call it inside the transaction that makes the change."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from martech.common import context

from .models import AuditEvent

SYSTEM_ACTOR = "system"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


def audit_snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Return the named fields of ``instance`` as JSON-safe values (FKs by their label).

    Callers list the fields explicitly so that a secret never reaches the log.
    """
    snapshot = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.is_relation and field.many_to_one:
            related = getattr(instance, name)
            snapshot[name] = str(related) if related is not None else None
        else:
            snapshot[name] = _jsonable(getattr(instance, name))
    return snapshot


def audit_diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """Return ``{field: {"before": b, "after": a}}`` for each field whose value changed."""
    before, after = before or {}, after or {}
    changes = {}
    for key in sorted(set(before) | set(after)):
        old, new = _jsonable(before.get(key)), _jsonable(after.get(key))
        if old != new:
            changes[key] = {"before": old, "after": new}
    return changes


def audit_record(
    *,
    action: str,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    actor=None,
    actor_label: str | None = None,
    target_repr: str | None = None,
) -> AuditEvent:
    """Append one audit event for the current actor (a user, or the system).

    The actor, request id and client address come from the running context (set by the
    web middleware, the API authentication and the Celery task base class) unless given.
    Call it inside the transaction that makes the change, so both commit or neither does.
    ``target_repr`` replaces ``str(target)`` where that would hold personal data.
    """
    ctx = context.current()
    if actor is None and ctx.user is not None and getattr(ctx.user, "is_authenticated", False):
        actor = ctx.user
    if actor_label is None:
        actor_label = actor.email if actor is not None else (ctx.system_actor or SYSTEM_ACTOR)
    target_type = None
    target_id = ""
    if target is not None:
        target_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        target_id = str(target.pk)
        if target_repr is None:
            target_repr = str(target)
    target_repr = (target_repr or "")[:255]
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor_label[:255],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        changes=audit_diff(before, after),
        metadata=_jsonable(metadata or {}),
        request_id=ctx.request_id,
        client_request_id=ctx.client_request_id,
        ip_address=ctx.ip_address,
    )
