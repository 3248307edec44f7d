"""Writes of the PPS intake, each audited and written to the request's history.

The stage gates live here, so the browser and the API obey the same rules:

- Problem facts can be edited until the request goes to decision.
- Stakeholders can be named once the People stage is open (the Problem is complete).
- The System stage (approach, capabilities, candidate tools) opens only when Problem and
  People are complete, so a tool name cannot come first.
- A request is decided by every approver; any rejection rejects it, the last approval
  approves it and brings the preferred candidate into the registry as ``evaluating``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.access.rules import require, user_can
from apps.accounts.models import User
from apps.accounts.notifications import notify
from apps.audit.services import audit_record, audit_snapshot
from apps.intake.errors import IntakeErrorCode
from apps.tools.choices import ToolCapability
from apps.tools.selectors import tool_by_name
from apps.tools.services import tool_adopt_from_intake
from martech.common.currencies import currency_problem, normalise_currency
from martech.common.errors import ApplicationError, ConflictError, PermissionDeniedError

from .choices import ONBOARDING_CHECKLIST, STAGE_ORDER, Outcome, Part, Stage, Verdict
from .models import Candidate, HistoryEntry, IntakeRequest, OnboardingTask, Stakeholder, Vote

PROBLEM_FIELDS = (
    "title",
    "team",
    "problem_statement",
    "who_suffers",
    "cost_hours_per_month",
    "cost_money_per_month",
    "cost_currency",
    "evidence",
)
SYSTEM_FIELDS = ("approach", "proposed_capabilities", "system_design")
AUDITED = (*PROBLEM_FIELDS, *SYSTEM_FIELDS, "stage", "outcome", "round", "revisit_on")


# --- Who may do what ---------------------------------------------------------------------


def _label(user) -> str:
    return user.full_name or user.email if user is not None else "system"


def can_edit(user, request: IntakeRequest) -> bool:
    """The requester (while they may submit) and intake deciders edit a request."""
    if request.requester_id == getattr(user, "pk", None):
        return user_can(user, "intake.submit")
    return user_can(user, "intake.decide")


def require_editor(actor, request: IntakeRequest, action: str) -> None:
    if not can_edit(actor, request):
        if request.requester_id == actor.pk:
            require(actor, "intake.submit", action)
        raise PermissionDeniedError(
            f"Only the requester or someone with intake.decide can {action}.",
            details={"capability": "intake.decide"},
        )


def is_approver(user, request: IntakeRequest) -> bool:
    return request.stakeholders.filter(person=user, part=Part.APPROVER).exists()


def require_approver(actor, request: IntakeRequest, action: str) -> None:
    if not is_approver(actor, request):
        raise PermissionDeniedError(f"Only this request's approvers can {action}.")
    require(actor, "intake.decide", action)


def _require_stage(request: IntakeRequest, allowed: tuple[str, ...], action: str) -> None:
    if request.stage not in allowed:
        names = ", ".join(Stage(s).label for s in allowed)
        raise ConflictError(
            f"You can {action} only in the {names} stage; this request is in "
            f"{request.get_stage_display()}.",
            code=IntakeErrorCode.STAGE_LOCKED,
            details={"stage": request.stage, "allowed": list(allowed)},
        )


def _history(request: IntakeRequest, actor, kind: str, message: str) -> None:
    HistoryEntry.objects.create(
        request=request, actor=actor, actor_label=_label(actor), kind=kind, message=message
    )


def _lock(request: IntakeRequest) -> IntakeRequest:
    return IntakeRequest.objects.select_for_update().get(pk=request.pk)


def _url(request: IntakeRequest) -> str:
    return reverse("intake:request_detail", args=[request.pk])


# --- What each stage needs -------------------------------------------------------------------


def problem_gaps(request: IntakeRequest) -> list[str]:
    gaps = []
    if not request.problem_statement.strip():
        gaps.append("Describe the discrete issue.")
    if not request.who_suffers.strip():
        gaps.append("Say who suffers it.")
    if not (request.cost_hours_per_month or 0) > 0 and not (request.cost_money_per_month or 0) > 0:
        gaps.append("Say what it costs today, in hours or money a month.")
    if not request.evidence.strip():
        gaps.append("Give the evidence.")
    return gaps


def people_gaps(request: IntakeRequest) -> list[str]:
    approvers = [s.person for s in request.stakeholders.all() if s.part == Part.APPROVER]
    if not approvers:
        return ["Name at least one approver."]
    unable = [p.full_name for p in approvers if not user_can(p, "intake.decide")]
    if unable:
        return [f"{', '.join(unable)} cannot decide intake requests (needs intake.decide)."]
    return []


def system_gaps(request: IntakeRequest) -> list[str]:
    gaps = []
    if not request.approach:
        gaps.append("Choose build, buy or both.")
    if not request.proposed_capabilities:
        gaps.append("Choose the capabilities the system must have.")
    candidates = list(request.candidates.all())
    if not candidates:
        gaps.append("Add at least one candidate tool.")
    elif request.approach in ("buy", "both") and not any(c.vendor for c in candidates):
        gaps.append("Buying needs at least one candidate with a vendor.")
    return gaps


STAGE_GAPS = {Stage.PROBLEM: problem_gaps, Stage.PEOPLE: people_gaps, Stage.SYSTEM: system_gaps}


def gaps_before(request: IntakeRequest, stage: str) -> dict[str, list[str]]:
    """What is missing in every stage before ``stage``, by stage."""
    found = {}
    for earlier in STAGE_ORDER[: STAGE_ORDER.index(stage)]:
        check = STAGE_GAPS.get(earlier)
        if check and (gaps := check(request)):
            found[earlier] = gaps
    return found


# --- Problem ---------------------------------------------------------------------------------


def _clean_problem(request: IntakeRequest) -> None:
    request.title = (request.title or "").strip()
    if not request.title:
        raise ApplicationError("Give the request a title.", code=IntakeErrorCode.TITLE_REQUIRED)
    for name in ("cost_hours_per_month", "cost_money_per_month"):
        value = getattr(request, name)
        if value is not None and value < 0:
            raise ApplicationError("A cost cannot be negative.", code=IntakeErrorCode.NEGATIVE_COST)
    if problem := currency_problem(request.cost_currency):
        raise ApplicationError(
            problem, code=IntakeErrorCode.CURRENCY, details={"fields": {"cost_currency": [problem]}}
        )
    request.cost_currency = normalise_currency(request.cost_currency)


@transaction.atomic
def intake_create(*, actor: User, title: str, **problem) -> IntakeRequest:
    """Start a request at the Problem stage."""
    require(actor, "intake.submit", "submit intake requests")
    unknown = set(problem) - set(PROBLEM_FIELDS)
    if unknown:
        raise ValueError(unknown)
    problem.setdefault("team", actor.team)
    request = IntakeRequest(requester=actor, title=title, **problem)
    _clean_problem(request)
    request.save()
    audit_record(
        action="intake.request.created", target=request, after=audit_snapshot(request, AUDITED)
    )
    _history(request, actor, "created", f"Started the request: {request.title}.")
    return request


@transaction.atomic
def intake_update(*, actor: User, request: IntakeRequest, **changes) -> IntakeRequest:
    """Change Problem or System facts, each only while its stage is open."""
    request = _lock(request)
    require_editor(actor, request, "edit this request")
    unknown = set(changes) - set(PROBLEM_FIELDS) - set(SYSTEM_FIELDS)
    if unknown:
        raise ValueError(unknown)
    if set(changes) & set(PROBLEM_FIELDS):
        _require_stage(request, (Stage.PROBLEM, Stage.PEOPLE, Stage.SYSTEM), "change the problem")
    if set(changes) & set(SYSTEM_FIELDS):
        _require_stage(request, (Stage.SYSTEM,), "design the system")
    before = audit_snapshot(request, AUDITED)
    for key, value in changes.items():
        setattr(request, key, value)
    _clean_problem(request)
    if "proposed_capabilities" in changes:
        capabilities = list(dict.fromkeys(request.proposed_capabilities or []))
        unknown = [c for c in capabilities if c not in ToolCapability.values]
        if unknown:
            raise ApplicationError(
                f"Unknown capability: {', '.join(unknown)}.",
                code=IntakeErrorCode.UNKNOWN_CAPABILITY,
                details={"proposed_capabilities": unknown},
            )
        request.proposed_capabilities = capabilities
    after = audit_snapshot(request, AUDITED)
    changed = [k for k in after if before.get(k) != after[k]]
    if not changed:
        return request
    request.save()
    audit_record(action="intake.request.updated", target=request, before=before, after=after)
    fields = ", ".join(IntakeRequest._meta.get_field(k).verbose_name for k in changed)
    _history(request, actor, "edited", f"Edited {fields}.")
    if _by_someone_else(actor, request):
        notify(
            user=request.requester,
            title=f"Your request was edited: {request.title}",
            body=f"{_label(actor)} changed {fields}.",
            url=_url(request),
        )
    return request


def _by_someone_else(actor, request: IntakeRequest) -> bool:
    """Whether ``actor`` acts on a request another person made (a decider fixing it)."""
    return request.requester_id is not None and request.requester_id != actor.pk


# --- Moving through the stages -----------------------------------------------------------------


@transaction.atomic
def intake_advance(*, actor: User, request: IntakeRequest) -> IntakeRequest:
    """Move to the next stage, if every stage so far is complete."""
    request = _lock(request)
    require_editor(actor, request, "move this request on")
    _require_stage(
        request, (Stage.PROBLEM, Stage.PEOPLE, Stage.SYSTEM), "move a request to the next stage"
    )
    target = STAGE_ORDER[request.stage_index + 1]
    gaps = gaps_before(request, target)
    if gaps:
        first = next(iter(gaps))
        raise ApplicationError(
            f"{Stage(first).label} is not complete: {' '.join(gaps[first])}",
            code=IntakeErrorCode.STAGE_INCOMPLETE,
            details={"missing": gaps},
        )
    before = audit_snapshot(request, AUDITED)
    request.stage = target
    request.stage_entered_at = timezone.now()
    request.save()
    audit_record(
        action="intake.request.advanced",
        target=request,
        before=before,
        after=audit_snapshot(request, AUDITED),
    )
    _history(request, actor, "advanced", f"Moved the request to {request.get_stage_display()}.")
    if target == Stage.DECISION:
        _ask_approvers(request)
    return request


def _ask_approvers(request: IntakeRequest) -> None:
    for stakeholder in request.stakeholders.filter(part=Part.APPROVER).select_related("person"):
        notify(
            user=stakeholder.person,
            title=f"Your decision is needed: {request.title}",
            body=(
                f"{_label(request.requester)} asks to bring in a system for: "
                f"{request.problem_statement[:300]}"
            ),
            url=_url(request),
            dedupe_key=f"intake.decide:{request.pk}:{request.round}:{stakeholder.person_id}",
        )


@transaction.atomic
def intake_withdraw(*, actor: User, request: IntakeRequest, note: str = "") -> IntakeRequest:
    request = _lock(request)
    require_editor(actor, request, "withdraw this request")
    if not request.is_open:
        raise ConflictError("The request is already closed.", code=IntakeErrorCode.CLOSED)
    by_other = _by_someone_else(actor, request)
    note = (note or "").strip()
    if by_other and not note:
        raise ApplicationError(
            "Say why you withdraw someone else's request: the requester is told.",
            code=IntakeErrorCode.REASON_REQUIRED,
            details={"note": "required"},
        )
    request = _close(request, actor, Outcome.WITHDRAWN, note, "Withdrew the request")
    if by_other:
        notify(
            user=request.requester,
            title=f"Your request was withdrawn: {request.title}",
            body=f"{_label(actor)} withdrew it: {note}",
            url=_url(request),
            dedupe_key=f"intake.withdrawn:{request.pk}",
        )
    return request


def _close(request, actor, outcome, note, verb, revisit_on=None):
    before = audit_snapshot(request, AUDITED)
    request.stage = Stage.CLOSED
    request.stage_entered_at = timezone.now()
    request.outcome = outcome
    request.decided_at = timezone.now()
    request.decision_note = note
    request.revisit_on = revisit_on
    request.save()
    audit_record(
        action=f"intake.request.{outcome}",
        target=request,
        before=before,
        after=audit_snapshot(request, AUDITED),
    )
    _history(request, actor, outcome, f"{verb}{': ' + note if note else '.'}")
    return request


# --- People ------------------------------------------------------------------------------------


@transaction.atomic
def stakeholder_add(
    *, actor: User, request: IntakeRequest, person: User, part: str, note: str = ""
) -> Stakeholder:
    """Name a stakeholder and their part; naming someone again changes their part."""
    request = _lock(request)
    require_editor(actor, request, "name stakeholders")
    _require_stage(request, (Stage.PEOPLE, Stage.SYSTEM), "name stakeholders")
    if part not in Part.values:
        raise ApplicationError(f"Unknown part: {part}.", code=IntakeErrorCode.UNKNOWN_PART)
    if not person.is_active:
        raise ApplicationError(
            f"{person.full_name} has left.", code=IntakeErrorCode.INACTIVE_PERSON
        )
    if part == Part.APPROVER and person.pk == request.requester_id:
        raise ApplicationError(
            "The requester cannot approve their own request.", code=IntakeErrorCode.SELF_APPROVAL
        )
    if part == Part.APPROVER and not user_can(person, "intake.decide"):
        raise ApplicationError(
            f"{person.full_name} cannot decide intake requests (needs intake.decide).",
            code=IntakeErrorCode.APPROVER_CANNOT_DECIDE,
        )
    stakeholder, created = Stakeholder.objects.update_or_create(
        request=request, person=person, defaults={"part": part, "note": note.strip()}
    )
    audit_record(
        action="intake.stakeholder.created" if created else "intake.stakeholder.updated",
        target=request,
        metadata={"person": person.email, "part": part},
    )
    named = f"{person.full_name} {_PART_AS[part]}"
    _history(
        request,
        actor,
        "stakeholder",
        f"Named {named}." if created else f"Named {person.full_name} again, now {_PART_AS[part]}.",
    )
    if created and part in (Part.CONSULTED, Part.NEEDS_TRAINING, Part.INFORMED):
        notify(
            user=person,
            title=_STAKEHOLDER_TITLES[part].format(title=request.title),
            url=_url(request),
            dedupe_key=f"intake.stakeholder:{request.pk}:{person.pk}:{part}",
            email=False,
        )
    return stakeholder


_STAKEHOLDER_TITLES = {
    Part.CONSULTED: "You are consulted on: {title}",
    Part.NEEDS_TRAINING: "You will need training for: {title}",
    Part.INFORMED: "You are kept informed on: {title}",
}

# "Named Jonas Berg as needing training."
_PART_AS = {
    Part.APPROVER: "as an approver",
    Part.CONSULTED: "to be consulted",
    Part.NEEDS_TRAINING: "as needing training",
    Part.INFORMED: "to be kept informed",
}

_PART_SENTENCES = {
    Part.APPROVER: "{name} is an approver.",
    Part.CONSULTED: "{name} is consulted.",
    Part.NEEDS_TRAINING: "{name} needs training.",
    Part.INFORMED: "{name} is kept informed.",
}


def stakeholder_sentence(stakeholder: Stakeholder) -> str:
    """Say a stakeholder's part as a sentence: “Jonas Berg needs training.”"""
    return _PART_SENTENCES[stakeholder.part].format(name=stakeholder.person.full_name)


@transaction.atomic
def stakeholder_remove(*, actor: User, stakeholder: Stakeholder) -> None:
    request = _lock(stakeholder.request)
    require_editor(actor, request, "change stakeholders")
    _require_stage(request, (Stage.PEOPLE, Stage.SYSTEM), "change stakeholders")
    name, part = stakeholder.person.full_name, stakeholder.get_part_display().lower()
    audit_record(
        action="intake.stakeholder.deleted",
        target=request,
        metadata={"person": stakeholder.person.email, "part": stakeholder.part},
    )
    stakeholder.delete()
    _history(request, actor, "stakeholder", f"Removed {name} ({part}).")


# --- System ------------------------------------------------------------------------------------


def _money(value) -> str:
    return f"{value:,.0f}"


@transaction.atomic
def candidate_add(
    *,
    actor: User,
    request: IntakeRequest,
    name: str,
    vendor: str = "",
    estimated_annual_cost: Decimal | None = None,
    currency: str = "USD",
    notes: str = "",
) -> Candidate:
    """Add a candidate tool; the first one is preferred until another is chosen."""
    request = _lock(request)
    require_editor(actor, request, "add candidate tools")
    _require_stage(request, (Stage.SYSTEM,), "add candidate tools")
    name = name.strip()
    if not name:
        raise ApplicationError("Name the candidate.", code=IntakeErrorCode.NAME_REQUIRED)
    if request.candidates.filter(name__iexact=name).exists():
        raise ConflictError(
            f"{name} is already a candidate.", code=IntakeErrorCode.CANDIDATE_EXISTS
        )
    if estimated_annual_cost is not None and estimated_annual_cost < 0:
        raise ApplicationError("A cost cannot be negative.", code=IntakeErrorCode.NEGATIVE_COST)
    if problem := currency_problem(currency):
        raise ApplicationError(
            problem, code=IntakeErrorCode.CURRENCY, details={"fields": {"currency": [problem]}}
        )
    currency = normalise_currency(currency)
    candidate = Candidate.objects.create(
        request=request,
        name=name,
        vendor=vendor.strip(),
        tool=tool_by_name(name),
        estimated_annual_cost=estimated_annual_cost,
        currency=currency,
        notes=notes.strip(),
        preferred=not request.candidates.exists(),
    )
    audit_record(
        action="intake.candidate.created",
        target=request,
        metadata={"candidate": name, "vendor": candidate.vendor},
    )
    cost = (
        f", about {_money(estimated_annual_cost)} {currency} a year"
        if estimated_annual_cost is not None
        else ""
    )
    already = " (already in the registry)" if candidate.tool_id else ""
    _history(request, actor, "candidate", f"Added candidate {name}{already}{cost}.")
    return candidate


@transaction.atomic
def candidate_prefer(*, actor: User, candidate: Candidate) -> Candidate:
    request = _lock(candidate.request)
    require_editor(actor, request, "choose the preferred candidate")
    _require_stage(request, (Stage.SYSTEM,), "choose the preferred candidate")
    request.candidates.filter(preferred=True).update(preferred=False)
    Candidate.objects.filter(pk=candidate.pk).update(preferred=True)
    candidate.refresh_from_db()
    audit_record(
        action="intake.candidate.updated", target=request, metadata={"preferred": candidate.name}
    )
    _history(request, actor, "candidate", f"Chose {candidate.name} as the preferred candidate.")
    return candidate


@transaction.atomic
def candidate_remove(*, actor: User, candidate: Candidate) -> None:
    request = _lock(candidate.request)
    require_editor(actor, request, "remove candidate tools")
    _require_stage(request, (Stage.SYSTEM,), "remove candidate tools")
    was_preferred = candidate.preferred
    name = candidate.name
    candidate.delete()
    if was_preferred:
        successor = request.candidates.order_by("added_at", "id").first()
        if successor:
            Candidate.objects.filter(pk=successor.pk).update(preferred=True)
    audit_record(action="intake.candidate.deleted", target=request, metadata={"candidate": name})
    _history(request, actor, "candidate", f"Removed candidate {name}.")


# --- Decision ----------------------------------------------------------------------------------


def _comment(comment: str) -> str:
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError("Say why, in a comment.", code=IntakeErrorCode.COMMENT_REQUIRED)
    return comment


@transaction.atomic
def intake_vote(*, actor: User, request: IntakeRequest, verdict: str, comment: str) -> Vote:
    """Record an approver's verdict; any rejection rejects, the last approval approves."""
    request = _lock(request)
    require_approver(actor, request, "decide this request")
    _require_stage(request, (Stage.DECISION,), "decide a request")
    if verdict not in Verdict.values:
        raise ApplicationError(f"Unknown verdict: {verdict}.", code=IntakeErrorCode.UNKNOWN_VERDICT)
    comment = _comment(comment)
    if request.votes.filter(approver=actor, round=request.round).exists():
        raise ConflictError(
            "You have already decided this request.", code=IntakeErrorCode.ALREADY_DECIDED
        )
    vote = Vote.objects.create(
        request=request, approver=actor, round=request.round, verdict=verdict, comment=comment
    )
    audit_record(
        action=f"intake.vote.{verdict}d",
        target=request,
        metadata={"verdict": verdict, "comment": comment, "round": request.round},
    )
    _history(
        request,
        actor,
        f"vote_{verdict}",
        f"{'Approved' if verdict == 'approve' else 'Rejected'}: {comment}",
    )
    if verdict == Verdict.REJECT:
        _close(request, actor, Outcome.REJECTED, comment, f"Rejected by {_label(actor)}")
        _tell_everyone(request, f"Rejected: {request.title}", comment)
        return vote
    approvers = set(
        request.stakeholders.filter(part=Part.APPROVER).values_list("person_id", flat=True)
    )
    approved = set(
        request.votes.filter(round=request.round, verdict=Verdict.APPROVE).values_list(
            "approver_id", flat=True
        )
    )
    if approvers <= approved:
        _approve(request, actor)
    return vote


def _approve(request: IntakeRequest, actor: User) -> None:
    candidate = request.candidates.filter(preferred=True).first() or request.candidates.first()
    labels = dict(ToolCapability.choices)
    tool = tool_adopt_from_intake(
        intake_request_id=request.pk,
        existing=candidate.tool,
        name=candidate.name,
        vendor=candidate.vendor or "In-house",
        category=labels.get(request.proposed_capabilities[0], "Other")
        if request.proposed_capabilities
        else "Other",
        capabilities=request.proposed_capabilities,
        business_owner=request.requester,
        team=request.team,
        annual_cost=candidate.estimated_annual_cost or Decimal("0"),
        currency=candidate.currency,
        notes=f"Approved through intake request #{request.pk}: {request.title}.",
    )
    request.tool = tool
    request.save(update_fields=["tool", "updated_at"])
    trainees = [
        s.person.full_name
        for s in request.stakeholders.filter(part=Part.NEEDS_TRAINING).select_related("person")
    ]
    for position, title in enumerate(ONBOARDING_CHECKLIST, start=1):
        if title.startswith("Train the people") and trainees:
            title = f"Train the people who need it: {', '.join(trainees)}"
        OnboardingTask.objects.create(request=request, position=position, title=title)
    verb = f"Approved by every approver; {tool.name} is evaluating"
    _close(request, actor, Outcome.APPROVED, "", verb)
    _tell_everyone(
        request,
        f"Approved: {request.title}",
        f"{tool.name} is in the registry as evaluating, with an onboarding checklist.",
    )


def _tell_everyone(request: IntakeRequest, title: str, body: str) -> None:
    people = {request.requester_id: request.requester}
    for stakeholder in request.stakeholders.select_related("person"):
        people.setdefault(stakeholder.person_id, stakeholder.person)
    for person in people.values():
        notify(
            user=person,
            title=title,
            body=body,
            url=_url(request),
            dedupe_key=f"intake.outcome:{request.pk}:{request.round}:{person.pk}",
        )


@transaction.atomic
def intake_defer(
    *, actor: User, request: IntakeRequest, revisit_on: dt.date, comment: str
) -> IntakeRequest:
    """Park the decision until ``revisit_on``; a reminder goes out on that day."""
    request = _lock(request)
    require_approver(actor, request, "defer this request")
    _require_stage(request, (Stage.DECISION,), "defer a request")
    comment = _comment(comment)
    today = timezone.localdate()
    if revisit_on <= today:
        raise ApplicationError(
            "The revisit date must be in the future.", code=IntakeErrorCode.REVISIT_PAST
        )
    if revisit_on > today + dt.timedelta(days=730):
        raise ApplicationError("Revisit within two years.", code=IntakeErrorCode.REVISIT_TOO_FAR)
    return _close(
        request,
        actor,
        Outcome.DEFERRED,
        comment,
        f"Deferred until {revisit_on:%Y-%m-%d}",
        revisit_on=revisit_on,
    )


@transaction.atomic
def intake_reopen(*, actor: User, request: IntakeRequest) -> IntakeRequest:
    """Bring a deferred request back to Decision for a new round of votes."""
    request = _lock(request)
    require_editor(actor, request, "reopen this request")
    if request.outcome != Outcome.DEFERRED:
        raise ConflictError(
            "Only a deferred request can be reopened.", code=IntakeErrorCode.NOT_DEFERRED
        )
    before = audit_snapshot(request, AUDITED)
    request.stage = Stage.DECISION
    request.stage_entered_at = timezone.now()
    request.outcome = ""
    request.round += 1
    request.revisit_on = None
    request.decided_at = None
    request.decision_note = ""
    request.save()
    audit_record(
        action="intake.request.reopened",
        target=request,
        before=before,
        after=audit_snapshot(request, AUDITED),
    )
    _history(request, actor, "reopened", f"Reopened for decision (round {request.round}).")
    _ask_approvers(request)
    return request


def revisit_reminders_send(*, today: dt.date | None = None) -> int:
    """Remind the requester and approvers of each deferred request due for a revisit.

    Sent once per request and revisit date; a day that was missed is caught up.
    """
    today = today or timezone.localdate()
    sent = 0
    due = IntakeRequest.objects.filter(
        outcome=Outcome.DEFERRED, revisit_on__lte=today
    ).select_related("requester")
    for request in due:
        people = {request.requester_id: request.requester}
        for stakeholder in request.stakeholders.filter(part=Part.APPROVER).select_related("person"):
            people.setdefault(stakeholder.person_id, stakeholder.person)
        first = False
        for person in people.values():
            if notify(
                user=person,
                title=f"Time to revisit: {request.title}",
                body=(
                    f"This request was deferred until {request.revisit_on:%Y-%m-%d}: "
                    f"{request.decision_note} Reopen it for a decision, or withdraw it."
                ),
                url=_url(request),
                dedupe_key=f"intake.revisit:{request.pk}:{request.revisit_on:%Y-%m-%d}:{person.pk}",
            ):
                sent += 1
                first = True
        if first:
            _history(request, None, "reminder", "Sent the revisit reminder.")
    return sent


# --- Onboarding --------------------------------------------------------------------------------


def can_tick(user, request: IntakeRequest) -> bool:
    """The requester, the new tool's owners and intake deciders keep the checklist."""
    tool = request.tool
    if tool is None:
        return False
    owners = {request.requester_id, tool.business_owner_id, tool.technical_owner_id}
    return user.pk in owners or user_can(user, "intake.decide")


def require_onboarder(user, request: IntakeRequest) -> None:
    if not can_tick(user, request):
        raise PermissionDeniedError(
            "Only the requester, the tool's owners or intake deciders keep the checklist."
        )


@transaction.atomic
def onboarding_task_set(*, actor: User, task: OnboardingTask, done: bool) -> OnboardingTask:
    """Tick or untick an onboarding step (the requester, the tool's owners, intake deciders)."""
    request = IntakeRequest.objects.select_related("tool").get(pk=task.request_id)
    require_onboarder(actor, request)
    task = OnboardingTask.objects.select_for_update().get(pk=task.pk)
    if bool(task.done_at) == done:
        return task
    task.done_at = timezone.now() if done else None
    task.done_by = actor if done else None
    task.save()
    audit_record(
        action="intake.onboarding.updated",
        target=request,
        metadata={"task": task.title, "done": done},
    )
    _history(request, actor, "onboarding", f"{'Ticked' if done else 'Unticked'}: {task.title}.")
    return task
