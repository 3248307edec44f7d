"""The overview's "Needs your attention" list: what waits for the person looking, and what fails.

Each app's section appears only for someone who holds the capability that lets them act on it
(the one ``user_can`` answers), and costs one or two count queries whatever the data's size:
the overview is the page everyone opens first.

An ``Attention`` says what waits (``title``), how many (``count``), by when (``due``), where to
act (``url``) and how urgent it is (``severity``: ``danger`` for what is failing or past its
deadline, ``warning`` for a decision or a deadline that waits, ``info`` for the rest).
``attention_list`` returns them most urgent first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

SEVERITY_ORDER = {"danger": 0, "warning": 1, "info": 2}

DECISION_AREA = "Waiting for your decision"
FAILING_AREA = "Failing"
DEADLINE_AREA = "Deadlines"

ERASURE_SOON_DAYS = 14  # an open erasure request this close to its deadline is shown
NOTICE_SOON_DAYS = 30  # a tool's notice deadline this close is shown
FAILED_RUNS_HOURS = 24
PIPELINE_LAG_MINUTES = 15  # events waiting longer than this mean the pipeline is behind


@dataclass(frozen=True)
class Attention:
    """One line of the list: what waits, how many, by when, where to act, how urgent."""

    key: str
    area: str
    title: str
    count: int
    url: str
    severity: str = "warning"
    due: dt.date | None = None
    detail: str = ""

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < timezone.localdate()

    @property
    def due_text(self) -> str:
        """``due today``, ``due in 8 days``, ``19 days overdue``; empty without a date."""
        if self.due is None:
            return ""
        return due_words(self.due)

    @property
    def colour(self) -> str:
        return {"danger": "red", "warning": "orange"}.get(self.severity, "azure")

    @property
    def due_colour(self) -> str:
        """Red once past, orange within two weeks, grey further off."""
        if self.due is None:
            return "secondary"
        days = (self.due - timezone.localdate()).days
        return "red" if days < 0 else "orange" if days <= 14 else "secondary"


def due_words(due: dt.date, today: dt.date | None = None) -> str:
    days = (due - (today or timezone.localdate())).days
    if days == 0:
        return "due today"
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} overdue"
    return f"due in {days} day{'s' if days != 1 else ''}"


def _n(count: int, singular: str, plural: str = "") -> str:
    return f"{count:,} {singular if count == 1 else plural or singular + 's'}"


def _one_or_list(count: int, one_url: Callable[[], str], list_url: str) -> str:
    return one_url() if count == 1 else list_url


# --- Access ------------------------------------------------------------------------------


def _access(user, can) -> list[Attention]:
    from apps.access.models import ReviewDecision, ReviewItem
    from apps.access.selectors import access_request_inbox

    items = []
    inbox = access_request_inbox(user=user)
    if inbox:
        items.append(
            Attention(
                "accounts.requests",
                DECISION_AREA,
                f"Decide the access request of {inbox[0].requester.full_name}"
                if len(inbox) == 1
                else f"Decide {_n(len(inbox), 'access request')}",
                len(inbox),
                _one_or_list(
                    len(inbox),
                    lambda: reverse("access:request_detail", args=[inbox[0].pk]),
                    reverse("access:request_list") + "?status=pending",
                ),
                detail=", ".join(r.requester.full_name for r in inbox[:3])
                + (" and others" if len(inbox) > 3 else ""),
            )
        )
    reviews = ReviewItem.objects.filter(
        reviewer=user, decision=ReviewDecision.PENDING, campaign__closed_at__isnull=True
    ).aggregate(n=Count("id"), due=Min("campaign__deadline"), campaign=Max("campaign_id"))
    if reviews["n"]:
        items.append(
            Attention(
                "accounts.reviews",
                DECISION_AREA,
                f"Access review: {_n(reviews['n'], 'decision')} to make",
                reviews["n"],
                reverse("access:review_detail", args=[reviews["campaign"]]),
                due=timezone.localdate(reviews["due"]),
            )
        )
    return items


# --- Intake ------------------------------------------------------------------------------


def _intake(user, can) -> list[Attention]:
    if not can("intake.decide"):
        return []
    from apps.intake.choices import Part, Stage
    from apps.intake.models import IntakeRequest, Vote

    voted = Vote.objects.filter(request=OuterRef("pk"), approver=user, round=OuterRef("round"))
    waiting = (
        IntakeRequest.objects.filter(
            stage=Stage.DECISION, stakeholders__person=user, stakeholders__part=Part.APPROVER
        )
        .exclude(Exists(voted))
        .aggregate(n=Count("id"), last=Max("id"), title=Max("title"))
    )
    if not waiting["n"]:
        return []
    return [
        Attention(
            "intake.decide",
            DECISION_AREA,
            f"Decide the intake request “{waiting['title']}”"
            if waiting["n"] == 1
            else f"Decide {_n(waiting['n'], 'intake request')}",
            waiting["n"],
            _one_or_list(
                waiting["n"],
                lambda: reverse("intake:request_detail", args=[waiting["last"]]),
                reverse("intake:board"),
            ),
        )
    ]


# --- Reverse ETL -------------------------------------------------------------------------


def _syncs(user, can) -> list[Attention]:
    approve, run = can("syncs.run_production"), can("syncs.run")
    if not (approve or run):
        return []
    from apps.syncs.models import RunStatus, SyncRun

    since = timezone.now() - dt.timedelta(hours=FAILED_RUNS_HOURS)
    held = Q(status=RunStatus.NEEDS_APPROVAL)
    failed = Q(status__in=(RunStatus.FAILED, RunStatus.PARTIAL), finished_at__gte=since)
    counts = SyncRun.objects.filter(held | failed, dry_run=False).aggregate(
        held=Count("id", filter=held),
        held_last=Max("id", filter=held),
        held_name=Max("sync__name", filter=held),
        failed=Count("id", filter=failed),
        failed_last=Max("id", filter=failed),
        failed_name=Max("sync__name", filter=failed),
    )
    items = []
    if approve and counts["held"]:
        items.append(
            Attention(
                "syncs.held",
                DECISION_AREA,
                f"Approve or cancel the held run of {counts['held_name']}"
                if counts["held"] == 1
                else f"Approve or cancel {_n(counts['held'], 'held sync run')}",
                counts["held"],
                _one_or_list(
                    counts["held"],
                    lambda: reverse("syncs:run_detail", args=[counts["held_last"]]),
                    reverse("syncs:sync_list"),
                ),
                detail="Nothing reaches the production destination until someone approves.",
            )
        )
    if (run or approve) and counts["failed"]:
        items.append(
            Attention(
                "syncs.failed",
                FAILING_AREA,
                f"A run of {counts['failed_name']} failed"
                if counts["failed"] == 1
                else f"{_n(counts['failed'], 'sync run')} failed",
                counts["failed"],
                _one_or_list(
                    counts["failed"],
                    lambda: reverse("syncs:run_detail", args=[counts["failed_last"]]),
                    reverse("syncs:sync_list"),
                ),
                severity="danger",
                detail=f"In the last {FAILED_RUNS_HOURS} hours.",
            )
        )
    return items


# --- Erasure -----------------------------------------------------------------------------


def _erasure(user, can) -> list[Attention]:
    from apps.erasure.models import ErasureTask, TaskStatus

    items = []
    if can("erasure.view") and (can("erasure.request") or can("erasure.approve")):
        items += _erasure_requests(can)
    mine = Q(status=TaskStatus.MANUAL, assignee=user)
    failed = Q(status=TaskStatus.FAILED) if can("erasure.request") else Q(pk__in=[])
    tasks = ErasureTask.objects.filter(mine | failed).aggregate(
        mine=Count("id", filter=mine),
        mine_due=Min("due_on", filter=mine),
        mine_request=Max("request_id", filter=mine),
        mine_task=Max("id", filter=mine),
        failed=Count("id", filter=failed),
        failed_request=Max("request_id", filter=failed),
    )
    if tasks["mine"]:
        # One task: its own page, where it is confirmed. More: the request's page, or without
        # erasure.view the notices, which link to each task's page.
        if tasks["mine"] == 1:
            url = reverse("erasure:task_detail", args=[tasks["mine_task"]])
        elif can("erasure.view"):
            url = reverse("erasure:request_detail", args=[tasks["mine_request"]])
        else:
            url = reverse("accounts:notification_list")
        items.append(
            Attention(
                "erasure.manual",
                DEADLINE_AREA,
                f"Erase a person by hand from {_n(tasks['mine'], 'tool')}",
                tasks["mine"],
                url,
                severity="danger"
                if tasks["mine_due"] and tasks["mine_due"] < timezone.localdate()
                else "warning",
                due=tasks["mine_due"],
                detail="Erase the person in each tool, then confirm how on its task's page.",
            )
        )
    if tasks["failed"]:
        items.append(
            Attention(
                "erasure.failed",
                FAILING_AREA,
                f"{_n(tasks['failed'], 'erasure task')} failed",
                tasks["failed"],
                _one_or_list(
                    tasks["failed"],
                    lambda: reverse("erasure:request_detail", args=[tasks["failed_request"]]),
                    reverse("erasure:request_list"),
                ),
                severity="danger",
                detail="Retry once the cause is fixed, or mark the tool not applicable.",
            )
        )
    return items


def _erasure_requests(can) -> list[Attention]:
    from apps.erasure.models import OPEN, ErasureRequest, RequestStatus

    today = timezone.localdate()
    # Open requests are few (each is one person's request); one query reads them all.
    open_requests = list(
        ErasureRequest.objects.filter(status__in=OPEN)
        .annotate(due_on=Coalesce("extended_deadline", "deadline"))
        .values_list("pk", "reference", "status", "due_on")
        .order_by("due_on", "pk")
    )
    steps = []
    if can("erasure.request"):
        steps.append((RequestStatus.RECEIVED, "Verify"))
    if can("erasure.approve"):
        steps.append((RequestStatus.VERIFIED, "Approve"))
    mine = {status for status, _verb in steps}
    # A request past its deadline is said once, as such; one that waits for this person's
    # step is said as that step, with its deadline.
    late = [r for r in open_requests if r[3] < today]
    near = [
        r
        for r in open_requests
        if 0 <= (r[3] - today).days <= ERASURE_SOON_DAYS and r[2] not in mine
    ]
    items = []
    for key, found, severity, one, many in (
        ("erasure.late", late, "danger", "is past its legal deadline", "past their legal deadline"),
        (
            "erasure.near",
            near,
            "warning",
            "nears its legal deadline",
            f"due within {ERASURE_SOON_DAYS} days",
        ),
    ):
        if not found:
            continue
        pk, reference, _status, due = found[0]
        items.append(
            Attention(
                key,
                DEADLINE_AREA,
                f"Erasure request {reference} {one}"
                if len(found) == 1
                else f"{_n(len(found), 'erasure request')} {many}",
                len(found),
                _one_or_list(
                    len(found),
                    lambda pk=pk: reverse("erasure:request_detail", args=[pk]),
                    reverse("erasure:request_list"),
                ),
                severity=severity,
                due=due,
                detail="" if len(found) == 1 else ", ".join(r[1] for r in found[:3]),
            )
        )
    for status, verb in steps:
        found = [r for r in open_requests if r[2] == status and r[3] >= today]
        if not found:
            continue
        pk, reference, _status, due = found[0]
        items.append(
            Attention(
                f"erasure.{status}",
                DECISION_AREA,
                f"{verb} erasure request {reference}"
                if len(found) == 1
                else f"{verb} {_n(len(found), 'erasure request')}",
                len(found),
                _one_or_list(
                    len(found),
                    lambda pk=pk: reverse("erasure:request_detail", args=[pk]),
                    reverse("erasure:request_list"),
                ),
                due=due,
            )
        )
    return items


# --- Tools -------------------------------------------------------------------------------


def _tools(user, can) -> list[Attention]:
    if not can("tools.view"):
        return []
    from apps.tools.choices import IN_USE
    from apps.tools.models import Tool

    today = timezone.localdate()
    tools = Tool.objects.filter(status__in=IN_USE, renewal_date__gte=today)
    if not can("tools.manage"):
        tools = tools.filter(Q(business_owner=user) | Q(technical_owner=user))
    missed, soon = [], []
    for tool in tools.only("id", "name", "renewal_date", "notice_period_days"):
        deadline = tool.notice_deadline
        if deadline < today:
            missed.append((deadline, tool))
        elif (deadline - today).days <= NOTICE_SOON_DAYS:
            soon.append((deadline, tool))
    items = []
    for key, found, severity, title in (
        ("tools.notice_missed", missed, "danger", "notice deadline missed"),
        ("tools.notice_soon", soon, "warning", "notice deadline within 30 days"),
    ):
        if not found:
            continue
        found.sort(key=lambda pair: pair[0])
        first_due, first = found[0]
        names = ", ".join(t.name for _, t in found[:3]) + (" and others" if len(found) > 3 else "")
        items.append(
            Attention(
                key,
                DEADLINE_AREA,
                f"{first.name}: {title}"
                if len(found) == 1
                else f"{_n(len(found), 'tool')}: {title.replace('deadline', 'deadlines')}",
                len(found),
                _one_or_list(
                    len(found),
                    lambda first=first: reverse("tools:tool_detail", args=[first.pk]),
                    reverse("tools:renewals"),
                ),
                severity=severity,
                due=first_due,
                detail=names if len(found) > 1 else f"Renews on {first.renewal_date:%Y-%m-%d}.",
            )
        )
    return items


# --- Destinations ------------------------------------------------------------------------


def _destinations(user, can) -> list[Attention]:
    if not can("destinations.view"):
        return []
    from apps.destinations.choices import DeliveryStatus
    from apps.destinations.models import Delivery, Destination

    items = []
    if can("destinations.replay"):
        dead = Delivery.objects.filter(status=DeliveryStatus.DEAD).count()
        if dead:
            items.append(
                Attention(
                    "destinations.dead",
                    FAILING_AREA,
                    f"{_n(dead, 'dead letter')} to fix and replay",
                    dead,
                    reverse("destinations:dead_letters"),
                    severity="danger",
                )
            )
    if can("destinations.manage"):
        failing = Destination.objects.filter(is_enabled=True, last_error_at__isnull=False).filter(
            Q(last_success_at__isnull=True) | Q(last_success_at__lt=F("last_error_at"))
        )
        found = failing.aggregate(n=Count("id"), last=Max("id"), since=Min("last_error_at"))
        if found["n"]:
            items.append(
                Attention(
                    "destinations.failing",
                    FAILING_AREA,
                    f"{_n(found['n'], 'destination')} failing",
                    found["n"],
                    _one_or_list(
                        found["n"],
                        lambda: reverse("destinations:destination_detail", args=[found["last"]]),
                        reverse("destinations:destination_list"),
                    ),
                    severity="danger",
                    detail="Its last delivery failed and none has succeeded since."
                    if found["n"] == 1
                    else "Their last deliveries failed and none has succeeded since.",
                )
            )
    return items


# --- Events ------------------------------------------------------------------------------


def _events(user, can) -> list[Attention]:
    if not (can("events.view") and can("events.replay")):
        return []
    from apps.events.choices import EventStatus
    from apps.events.models import Event

    now = timezone.now()
    counts = Event.objects.filter(
        status__in=(EventStatus.QUARANTINED, EventStatus.FAILED, EventStatus.RECEIVED)
    ).aggregate(
        quarantined=Count("id", filter=Q(status=EventStatus.QUARANTINED)),
        failed=Count("id", filter=Q(status=EventStatus.FAILED)),
        oldest=Min("received_at", filter=Q(status=EventStatus.RECEIVED)),
    )
    events_url = reverse("events:event_list")
    items = []
    if counts["failed"]:
        items.append(
            Attention(
                "events.failed",
                FAILING_AREA,
                f"{_n(counts['failed'], 'event')} failed in the pipeline",
                counts["failed"],
                f"{events_url}?status={EventStatus.FAILED}",
                severity="danger",
            )
        )
    if counts["quarantined"]:
        items.append(
            Attention(
                "events.quarantined",
                FAILING_AREA,
                f"{_n(counts['quarantined'], 'event')} quarantined by the tracking plan",
                counts["quarantined"],
                f"{events_url}?status={EventStatus.QUARANTINED}",
                detail="Fix the schema or the plan, then replay them.",
            )
        )
    oldest = counts["oldest"]
    if oldest is not None and now - oldest > dt.timedelta(minutes=PIPELINE_LAG_MINUTES):
        minutes = int((now - oldest).total_seconds() // 60)
        items.append(
            Attention(
                "events.lag",
                FAILING_AREA,
                f"The pipeline is {minutes:,} minutes behind",
                minutes,
                reverse("events:health"),
                severity="danger",
                detail="Events wait to be processed: check that the workers run.",
            )
        )
    return items


# --- Identity ----------------------------------------------------------------------------


def _identity(user, can) -> list[Attention]:
    if not (can("identity.view") and can("identity.manage")):
        return []
    from apps.identity.choices import LinkStatus
    from apps.identity.models import Link

    queue = Link.objects.filter(status__in=(LinkStatus.PENDING, LinkStatus.CONFLICT)).count()
    if not queue:
        return []
    return [
        Attention(
            "identity.review",
            DECISION_AREA,
            f"{_n(queue, 'identity link')} to confirm or reject",
            queue,
            reverse("identity:review_queue"),
            severity="info",
        )
    ]


SECTIONS = (_access, _intake, _syncs, _erasure, _tools, _destinations, _events, _identity)


def _urgency(item: Attention):
    return (
        SEVERITY_ORDER.get(item.severity, 9),
        item.due or dt.date.max,
        item.area != DECISION_AREA,
        item.title,
    )


def attention_list(*, user) -> list[Attention]:
    """Return what waits for ``user``'s decision and what is failing that they can act on,
    most urgent first: failures and missed deadlines, then decisions and deadlines that wait
    (the nearest first), then the rest."""
    from apps.access.rules import user_can

    if user is None or not getattr(user, "is_authenticated", False):
        return []

    def can(capability: str) -> bool:
        return user_can(user, capability)

    items = [item for section in SECTIONS for item in section(user, can)]
    return sorted(items, key=_urgency)


@dataclass(frozen=True)
class Upcoming:
    """Capabilities a person will hold at the same moment: ``when`` then what they can do."""

    when: str
    labels: tuple[str, ...]

    @property
    def sentence(self) -> str:
        return f"{self.when[0].upper()}{self.when[1:]}: {', '.join(self.labels)}."


def upcoming_grouped(*, user, now: dt.datetime | None = None) -> list[Upcoming]:
    """What ``user``'s roles will give them, one line per moment (``In 18 days (on …): read
    the audit log, see destinations and deliveries``), soonest first."""
    from apps.access.registry import get_capability
    from apps.access.rules import capabilities_of, evaluate

    now = now or timezone.now()
    today = timezone.localdate(now)
    held = capabilities_of(user)
    groups: dict[str, list[str]] = {}
    seen = set()
    pending = sorted(evaluate(user, now=now)[1], key=lambda p: p.available_on or dt.date.max)
    for item in pending:
        if item.capability in held or item.capability in seen:
            continue
        seen.add(item.capability)
        capability = get_capability(item.capability)
        label = item.capability
        if capability is not None:
            label = capability.label[0].lower() + capability.label[1:]
        groups.setdefault(item.describe(today), []).append(label)
    return [Upcoming(when, tuple(labels)) for when, labels in groups.items()]


_AUDIT_NOISE = (
    "accounts.user.logged_in",
    "accounts.user.logged_out",
    "accounts.notification.sent",
)


def audit_noise() -> tuple[str, ...]:
    """Audit actions that record use, not change: left out of the overview's recent changes."""
    return _AUDIT_NOISE


def action_words(action: str) -> str:
    """``syncs.run.held`` → ``Syncs: run held``; ``erasure.request.created`` → ``Erasure:
    request created``: an audit action read as words, its app first."""
    app, _, rest = action.partition(".")
    words = rest.replace(".", " ").replace("_", " ").strip()
    if not words:
        return app.replace("_", " ").capitalize()
    return f"{app.replace('_', ' ').capitalize()}: {words}"
