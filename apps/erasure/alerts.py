"""Alerts: a request at 20 days without completion, its deadline near, a task that failed.
Privacy approvers (``erasure.approve``) and the owners of the tools still to do hear of it,
in the console and by email, once per request and milestone."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.access.models import Grant
from apps.accounts.models import User
from apps.accounts.notifications import notify

from .models import OPEN, ErasureRequest, ErasureTask, TaskStatus

STALE_DAYS = 20
NEAR_DAYS = 5  # "the deadline is near": this many days or fewer left


def privacy_approvers() -> list[User]:
    holders = Grant.objects.effective().filter(capability="erasure.approve").values("user_id")
    return list(User.objects.filter(Q(pk__in=holders) | Q(is_superuser=True), is_active=True))


def _owners(request: ErasureRequest) -> list[tuple[User, str]]:
    """The owners of the tools still to do, each with their task's page (an owner may not
    see erasure requests)."""
    open_tasks = request.tasks.exclude(status__in=(TaskStatus.DONE, TaskStatus.NOT_APPLICABLE))
    return [
        (t.assignee, reverse("erasure:task_detail", args=[t.pk]))
        for t in open_tasks.select_related("assignee")
        if t.assignee_id
    ]


def _tell(
    request: ErasureRequest, key: str, title: str, body: str, approvers: list[User] | None = None
) -> int:
    url = reverse("erasure:request_detail", args=[request.pk])
    approvers = privacy_approvers() if approvers is None else approvers
    people = {p.pk: (p, task_url) for p, task_url in _owners(request)}
    people.update({p.pk: (p, url) for p in approvers})
    sent = 0
    for person, link in people.values():
        if person.is_active and notify(
            user=person,
            title=title,
            body=body,
            url=link,
            dedupe_key=f"erasure.request:{request.pk}:{key}",
        ):
            sent += 1
    return sent


def reminders(today: dt.date | None = None) -> int:
    """The daily check of open requests; returns how many notices went out."""
    today = today or timezone.localdate()
    sent, approvers = 0, privacy_approvers()
    for request in ErasureRequest.objects.filter(status__in=OPEN):
        age = (today - request.received_on).days
        left = (request.due - today).days
        if age >= STALE_DAYS:
            sent += _tell(
                request,
                "20-days",
                f"Erasure {request.reference}: {age} days open",
                f"Received {request.received_on}, due {request.due} ({left} days "
                "left), and not complete: see what is still to do.",
                approvers,
            )
        if left <= NEAR_DAYS:
            when = "overdue" if left < 0 else f"due in {left} days"
            sent += _tell(
                request,
                f"deadline-{request.due}",
                f"Erasure {request.reference} is {when}",
                f"The legal deadline is {request.due}. Finish the open "
                "tasks, or extend the deadline with a reason.",
                approvers,
            )
    return sent


def task_failed(task: ErasureTask) -> None:
    request = task.request
    _tell(
        request,
        f"task-{task.pk}-failed",
        f"Erasure {request.reference}: {task.name} failed",
        "The vendor refused or kept failing; the request page has its answer. Retry the task "
        "once the cause is fixed, or erase by hand and mark it done.",
    )
