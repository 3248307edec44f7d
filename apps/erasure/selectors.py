"""Reads of erasure requests, restricted by ``erasure.view``; a tool owner without it sees
the manual tasks assigned to them, and nothing else."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterator

from django.db.models import Count, Q, QuerySet

from apps.access.rules import user_can
from apps.identity.normalise import Ident
from martech.common import crypto
from martech.common.errors import NotFoundError

from .models import (
    OPEN,
    Decision,
    ErasureIdentifier,
    ErasureRequest,
    ErasureTask,
    RequestStatus,
    Suppression,
    TaskStatus,
)


def request_list(*, user) -> QuerySet[ErasureRequest]:
    if user is None or not user_can(user, "erasure.view"):
        return ErasureRequest.objects.none()
    return ErasureRequest.objects.select_related("duplicate_of").annotate(
        task_count=Count("tasks", distinct=True),
        tasks_finished=Count(
            "tasks",
            filter=Q(tasks__status__in=(TaskStatus.DONE, TaskStatus.NOT_APPLICABLE)),
            distinct=True,
        ),
    )


def request_get(*, user, pk) -> ErasureRequest:
    found = request_list(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("No such erasure request.")
    return found


def task_get(*, user, pk) -> ErasureTask:
    """One task: for whoever sees erasure requests, or for the person it is assigned to."""
    if user is None or not getattr(user, "is_active", False):
        raise NotFoundError("No such task.")
    found = (
        ErasureTask.objects.select_related("request", "assignee", "confirmed_by")
        .filter(pk=pk)
        .first()
    )
    if found is None or not (found.assignee_id == user.pk or user_can(user, "erasure.view")):
        raise NotFoundError("No such task.")
    return found


def dashboard() -> dict:
    """Open requests, the median days to complete, and failures per destination."""
    open_requests = ErasureRequest.objects.filter(status__in=OPEN)
    done = ErasureRequest.objects.filter(status=RequestStatus.COMPLETED, completed_at__isnull=False)
    days = [
        (r.completed_at.date() - r.received_on).days
        for r in done.only("completed_at", "received_on")
    ]
    failures = (
        ErasureTask.objects.filter(status=TaskStatus.FAILED)
        .values("name")
        .annotate(n=Count("id"))
        .order_by("-n", "name")
    )
    return {
        "open": open_requests.count(),
        "overdue": sum(1 for r in open_requests if r.days_left < 0),
        "completed": len(days),
        "median_days": statistics.median(days) if days else None,
        "failures": list(failures),
    }


def identifiers_being_erased() -> Iterator[tuple[Ident, dt.datetime]]:
    """The identifiers of every approved request still in progress, with the moment they were
    suppressed (the approval): the only time their values are known, since a completed
    request keeps only keyed hashes. Decrypted; for the warehouses' ``deleted_users``."""
    identifiers = (
        ErasureIdentifier.objects.filter(
            request__status=RequestStatus.IN_PROGRESS, decision=Decision.INCLUDED
        )
        .exclude(token="")
        .select_related("request")
        .order_by("pk")
    )
    for identifier in identifiers.iterator(chunk_size=2000):
        value = crypto.decrypt(identifier.token).get("value", "")
        if value:
            yield (
                Ident(identifier.type, value),
                identifier.request.approved_at or identifier.request.created_at,
            )


def suppression_count() -> int:
    """How many identifiers are on the suppression list."""
    return Suppression.objects.count()
