"""Demo erasure: a request completed last month with its evidence, one in progress (most
tools done, Amplitude's scheduled deletion awaited, a manual task for the support desk), a
verified one waiting for approval past 20 days, and a new Californian request. Their dates
follow one another as they would: received, verified, approved, the tools done, completed,
and kept 24 months from completion."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.access.demo import grant_demo_capabilities
from apps.accounts.models import User
from apps.consent.models import Purpose
from apps.consent.services import consent_record
from apps.identity.services import link_record

from . import services
from .models import ErasureRequest, ErasureTask, TaskKind, TaskStatus

ACCESS = {
    "Privacy & Compliance": [("erasure.view", 0), ("erasure.request", 0), ("erasure.approve", 90)],
    "Marketing Operations": [("erasure.view", 30), ("erasure.request", 90)],
}


def _settle(request: ErasureRequest, *, awaiting: str = "", at: dt.datetime) -> None:
    """What the vendors answered (the demo cannot reach them)."""
    for task in request.tasks.filter(kind=TaskKind.API):
        task.attempts, task.started_at = 1, at
        if task.destination and task.destination.adapter == awaiting:
            task.status, task.receipt = (
                TaskStatus.AWAITING_VENDOR,
                (at + dt.timedelta(days=30)).strftime("%Y-%m-%d"),
            )
            task.waiting, task.next_attempt_at = (
                [task.receipt],
                timezone.now() + dt.timedelta(days=1),
            )
        else:
            task.status, task.finished_at, task.next_attempt_at = TaskStatus.DONE, at, None
            task.receipt = '{"deleted": 1}'
        task.evidence = [
            {
                "at": at.isoformat(),
                "what": "erase",
                "http_status": 200,
                "state": "waiting" if task.status != TaskStatus.DONE else "done",
                "receipt": task.receipt,
                "message": "",
            }
        ]
        task.save()


def _dated(request: ErasureRequest, **when: dt.datetime) -> None:
    """Put the request's steps back to when they happened (the services stamp them now)."""
    if "completed_at" in when:
        completed_on = timezone.localtime(when["completed_at"]).date()
        when = {**when, "retain_until": completed_on + services.RETENTION}
    ErasureRequest.objects.filter(pk=request.pk).update(**when)


def load() -> str:
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return "no administrator to act as"
    grant_demo_capabilities(admin, ACCESS)
    if ErasureRequest.objects.exists():
        return "erasure requests already loaded"
    today = timezone.localdate()
    now = timezone.now()
    # completed last month: a customer known by four identifiers in one profile, with a
    # newsletter choice; approval erased them here, nothing about them is left but hashes
    link_record(
        a=("user_id", "cus_27740"),
        b=("email", "j.smith@example.co.uk"),
        rule="login",
        observed_at=now - dt.timedelta(days=300),
    )
    for anon in ("ajs-7b2e40c1", "ajs-e90d3f5a"):
        link_record(
            a=("user_id", "cus_27740"),
            b=("anonymous_id", anon),
            rule="identify",
            observed_at=now - dt.timedelta(days=200),
        )
    if Purpose.objects.filter(code="email_marketing").exists():
        consent_record(
            subject=("email", "j.smith@example.co.uk"),
            purpose="email_marketing",
            granted=True,
            source="form",
            jurisdiction="gdpr",
            via="demo",
            occurred_at=now - dt.timedelta(days=300),
        )
    done = services.request_create(
        actor=admin,
        identifier="email:j.smith@example.co.uk",
        channel="email",
        jurisdiction="gdpr",
        received_on=today - dt.timedelta(days=41),
    )
    services.request_verify(actor=admin, request=done, note="Replied from the address on file")
    services.request_approve(actor=admin, request=done)
    _settle(done, at=now - dt.timedelta(days=38))
    for task in done.tasks.filter(kind=TaskKind.MANUAL):
        if task.assignee:
            services.task_confirm(
                actor=task.assignee, task=task, note="Deleted by hand in the admin screen"
            )
        else:
            services.task_not_applicable(actor=admin, task=task, reason="Holds no customer records")
    done.tasks.filter(kind=TaskKind.MANUAL).update(finished_at=now - dt.timedelta(days=35))
    services.maybe_complete(done)
    _dated(
        done,
        verified_at=now - dt.timedelta(days=40),
        approved_at=now - dt.timedelta(days=39),
        completed_at=now - dt.timedelta(days=33),
    )
    # in progress: a signed-in customer with two devices
    for anon in ("ajs-3c0d91ee", "ajs-a41f7702"):
        link_record(a=("user_id", "cus_50311"), b=("anonymous_id", anon), rule="identify")
    link_record(a=("user_id", "cus_50311"), b=("email", "tom.becker@example.de"), rule="login")
    tom = services.request_create(
        actor=admin,
        identifier="email:tom.becker@example.de",
        channel="web_form",
        jurisdiction="gdpr",
        received_on=today - dt.timedelta(days=9),
    )
    services.request_verify(actor=admin, request=tom, note="Signed in to the privacy form")
    services.request_approve(actor=admin, request=tom)
    _settle(tom, awaiting="amplitude", at=now - dt.timedelta(days=8))
    _dated(
        tom,
        verified_at=now - dt.timedelta(days=8, hours=3),
        approved_at=now - dt.timedelta(days=8, hours=2),
    )
    # verified, waiting for approval for 22 days: the 20-day alert has gone out
    maria = services.request_create(
        actor=admin,
        identifier="email:maria.rossi@example.it",
        channel="support",
        jurisdiction="gdpr",
        received_on=today - dt.timedelta(days=22),
    )
    services.request_verify(actor=admin, request=maria, note="Ticket from the account's email")
    _dated(maria, verified_at=now - dt.timedelta(days=21))
    # new, from California
    services.request_create(
        actor=admin,
        identifier="phone:+1 415 555 0199",
        channel="phone",
        jurisdiction="ccpa",
        received_on=today - dt.timedelta(days=2),
        notes="Called the support line: delete everything.",
    )
    from .alerts import reminders

    reminders()
    return f"{ErasureRequest.objects.count()} requests, {ErasureTask.objects.count()} tasks"
