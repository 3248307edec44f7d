"""Writes that change who may do what: roles, trainings, assignments, requests, reviews.

Every function checks the actor's capability through ``rules.require``, audits itself in
the same transaction, and recomputes the grants of everyone it affects before returning,
so a change applies at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.notifications import notify
from apps.audit.services import audit_record, audit_snapshot
from martech.common.errors import ApplicationError, ConflictError, PermissionDeniedError

from .errors import AccessErrorCode
from .models import (
    AccessAssignment,
    AccessRequest,
    AccessRequestStatus,
    AssignmentSource,
    BirthrightRule,
    Grant,
    ReviewCampaign,
    ReviewDecision,
    ReviewItem,
    ReviewPolicy,
    Role,
    RoleCapability,
    Training,
    TrainingCompletion,
)
from .registry import capability_label, get_capability, is_capability
from .rules import (
    access_assignment_end,
    access_recompute,
    capability_rule,
    require,
    require_may_change_person,
    user_can,
)

MANAGE = "accounts.manage_access"
REQUEST_PENDING_DAYS = 30
MAX_REQUEST_DAYS = 365


EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)
MAX_DAYS = 36500


def check_days(value: int | None, field: str, *, minimum: int = 0) -> None:
    """Refuse a day count outside ``minimum``..100 years (date arithmetic must not overflow)."""
    if value is not None and not minimum <= value <= MAX_DAYS:
        raise ApplicationError(
            f"{field} must be from {minimum} to {MAX_DAYS} days.",
            code=AccessErrorCode.OUT_OF_RANGE,
            details={field: value},
        )


def check_date(value: dt.date | None, field: str) -> None:
    """Refuse a date outside the years 1900 to 2999."""
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ApplicationError(
            f"{field} must be between {EARLIEST} and {LATEST}.",
            code=AccessErrorCode.OUT_OF_RANGE,
            details={field: str(value)},
        )


def _recompute(users: Iterable[User]) -> None:
    for person in {u.pk: u for u in users}.values():
        access_recompute(user=person)


def _holders(role: Role) -> list[User]:
    return list(
        User.objects.filter(assignments__role=role, assignments__ended_at__isnull=True).distinct()
    )


def _require_not_own_role(actor: User, role: Role, what: str) -> None:
    """Refuse a rule change that would widen the actor's own access (superusers hold every
    capability already, so nothing they change widens theirs)."""
    if actor.is_superuser:
        return
    if AccessAssignment.objects.filter(user=actor, role=role, ended_at__isnull=True).exists():
        raise PermissionDeniedError(
            f"You hold the {role.name} role, so you cannot {what}; ask another access "
            "administrator.",
            code=AccessErrorCode.OWN_ACCESS,
            details={"role": role.pk},
        )


def _requested_holders(capability: str) -> list[User]:
    """People holding ``capability`` on its own: its rule follows every role's rules for it."""
    return list(
        User.objects.filter(
            assignments__capability=capability, assignments__ended_at__isnull=True
        ).distinct()
    )


def _check_capability(code: str) -> None:
    if not is_capability(code):
        raise ApplicationError(
            f"There is no capability {code}.",
            code=AccessErrorCode.UNKNOWN_CAPABILITY,
            details={"capability": code},
        )


# --- Roles ----------------------------------------------------------------------------------

ROLE_FIELDS = ("name", "description", "owner")


@transaction.atomic
def role_create(*, actor: User, name: str, description: str = "", owner: User) -> Role:
    require(actor, MANAGE, "create roles")
    name = name.strip()
    if Role.objects.filter(name__iexact=name).exists():
        raise ConflictError(
            f"A role named {name} already exists.", code=AccessErrorCode.ROLE_NAME_TAKEN
        )
    role = Role.objects.create(name=name, description=description, owner=owner)
    audit_record(
        action="accounts.role.created", target=role, after=audit_snapshot(role, ROLE_FIELDS)
    )
    return role


@transaction.atomic
def role_update(*, actor: User, role: Role, **changes) -> Role:
    require(actor, MANAGE, "edit roles")
    before = audit_snapshot(role, ROLE_FIELDS)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if Role.objects.filter(name__iexact=changes["name"]).exclude(pk=role.pk).exists():
            raise ConflictError(
                f"A role named {changes['name']} already exists.",
                code=AccessErrorCode.ROLE_NAME_TAKEN,
            )
    for key, value in changes.items():
        if key not in ROLE_FIELDS:
            raise ValueError(key)
        setattr(role, key, value)
    role.save()
    audit_record(
        action="accounts.role.updated",
        target=role,
        before=before,
        after=audit_snapshot(role, ROLE_FIELDS),
    )
    _recompute(_holders(role))  # reasons name the role
    return role


@transaction.atomic
def role_delete(*, actor: User, role: Role) -> None:
    require(actor, MANAGE, "delete roles")
    if AccessAssignment.objects.filter(role=role, ended_at__isnull=True).exists():
        raise ConflictError(
            f"{role.name} is still held. End its assignments and birthright rules first.",
            code=AccessErrorCode.ROLE_IN_USE,
        )
    if AccessAssignment.objects.filter(role=role).exists() or role.access_requests.exists():
        raise ConflictError(
            f"{role.name} was held or requested before; it is kept for the record. "
            "Remove its capabilities instead.",
            code=AccessErrorCode.ROLE_HAS_HISTORY,
        )
    audit_record(
        action="accounts.role.deleted", target=role, before=audit_snapshot(role, ROLE_FIELDS)
    )
    role.delete()


@transaction.atomic
def role_capability_set(
    *,
    actor: User,
    role: Role,
    capability: str,
    min_tenure_days: int = 0,
    trainings: Iterable[Training] = (),
) -> RoleCapability:
    """Add a capability to a role, or change its tenure and training requirements."""
    require(actor, MANAGE, "edit roles")
    _check_capability(capability)
    check_days(min_tenure_days, "min_tenure_days")
    _require_not_own_role(actor, role, "change its capabilities")
    rule, created = RoleCapability.objects.get_or_create(
        role=role, capability=capability, defaults={"min_tenure_days": min_tenure_days}
    )
    before = (
        None
        if created
        else {
            "min_tenure_days": rule.min_tenure_days,
            "trainings": sorted(t.name for t in rule.trainings.all()),
        }
    )
    rule.min_tenure_days = min_tenure_days
    rule.save()
    rule.trainings.set(list(trainings))
    audit_record(
        action="accounts.role.capability_set",
        target=role,
        before=before,
        after={
            "min_tenure_days": min_tenure_days,
            "trainings": sorted(t.name for t in rule.trainings.all()),
        },
        metadata={"capability": capability},
    )
    _recompute([*_holders(role), *_requested_holders(capability)])
    return rule


@transaction.atomic
def role_capability_remove(*, actor: User, rule: RoleCapability) -> None:
    require(actor, MANAGE, "edit roles")
    role = rule.role
    audit_record(
        action="accounts.role.capability_removed",
        target=role,
        metadata={"capability": rule.capability},
    )
    rule.delete()
    _recompute([*_holders(role), *_requested_holders(rule.capability)])


@transaction.atomic
def birthright_rule_add(
    *, actor: User, role: Role, team: str = "", job_title_contains: str = ""
) -> BirthrightRule:
    require(actor, MANAGE, "edit birthright rules")
    team, job_title_contains = team.strip(), job_title_contains.strip()
    if not team and not job_title_contains:
        raise ApplicationError(
            "A birthright rule needs a team, a job title, or both.",
            code=AccessErrorCode.EMPTY_BIRTHRIGHT_RULE,
        )
    rule = BirthrightRule.objects.create(
        role=role, team=team, job_title_contains=job_title_contains
    )
    if not actor.is_superuser and rule.matches(actor):
        raise PermissionDeniedError(
            f"This rule would give you the {role.name} role yourself; ask another access "
            "administrator.",
            code=AccessErrorCode.OWN_ACCESS,
        )
    audit_record(
        action="accounts.role.birthright_added", target=role, metadata={"rule": rule.describe()}
    )
    _recompute(u for u in User.objects.filter(is_active=True) if rule.matches(u))
    return rule


@transaction.atomic
def birthright_rule_remove(*, actor: User, rule: BirthrightRule) -> None:
    require(actor, MANAGE, "edit birthright rules")
    role = rule.role
    affected = list(
        User.objects.filter(assignments__birthright_rule=rule, assignments__ended_at__isnull=True)
    )
    audit_record(
        action="accounts.role.birthright_removed", target=role, metadata={"rule": rule.describe()}
    )
    rule.delete()
    _recompute(affected)


# --- Trainings --------------------------------------------------------------------------------

TRAINING_FIELDS = ("name", "description", "validity_days", "owner")


@transaction.atomic
def training_create(
    *, actor: User, name: str, description: str = "", validity_days=None, owner=None
) -> Training:
    require(actor, MANAGE, "edit the training catalog")
    check_days(validity_days, "validity_days", minimum=1)
    name = name.strip()
    if Training.objects.filter(name__iexact=name).exists():
        raise ConflictError(
            f"A training named {name} already exists.", code=AccessErrorCode.TRAINING_NAME_TAKEN
        )
    training = Training.objects.create(
        name=name, description=description, validity_days=validity_days, owner=owner
    )
    audit_record(
        action="accounts.training.created",
        target=training,
        after=audit_snapshot(training, TRAINING_FIELDS),
    )
    return training


@transaction.atomic
def training_update(*, actor: User, training: Training, **changes) -> Training:
    require(actor, MANAGE, "edit the training catalog")
    before = audit_snapshot(training, TRAINING_FIELDS)
    if "validity_days" in changes:
        check_days(changes["validity_days"], "validity_days", minimum=1)
        # How long a completion counts decides access: not for a training one has completed.
        if (
            changes["validity_days"] != training.validity_days
            and not actor.is_superuser
            and training.completions.filter(user=actor).exists()
        ):
            raise PermissionDeniedError(
                f"You have completed {training.name}, so you cannot change how long it stays "
                "valid; ask another access administrator.",
                code=AccessErrorCode.OWN_ACCESS,
                details={"training": training.pk},
            )
    for key, value in changes.items():
        if key not in TRAINING_FIELDS:
            raise ValueError(key)
        setattr(training, key, value)
    if Training.objects.filter(name__iexact=training.name).exclude(pk=training.pk).exists():
        raise ConflictError(
            f"A training named {training.name} already exists.",
            code=AccessErrorCode.TRAINING_NAME_TAKEN,
        )
    training.save()
    audit_record(
        action="accounts.training.updated",
        target=training,
        before=before,
        after=audit_snapshot(training, TRAINING_FIELDS),
    )
    _recompute(User.objects.filter(training_completions__training=training).distinct())
    return training


@transaction.atomic
def training_completion_record(
    *, actor: User, user: User, training: Training, completed_on: dt.date
) -> TrainingCompletion:
    """Record that ``user`` completed ``training``; it expires after the training's validity."""
    require(actor, MANAGE, "record training completions")
    require_may_change_person(actor, user, "training completions")
    check_date(completed_on, "completed_on")
    if completed_on > timezone.localdate():
        raise ApplicationError(
            "A completion cannot be in the future.", code=AccessErrorCode.COMPLETION_IN_FUTURE
        )
    expires_on = (
        completed_on + dt.timedelta(days=training.validity_days) if training.validity_days else None
    )
    completion = TrainingCompletion.objects.create(
        user=user,
        training=training,
        completed_on=completed_on,
        expires_on=expires_on,
        recorded_by=actor,
    )
    audit_record(
        action="accounts.training.completed",
        target=completion,
        after={
            "user": user.email,
            "training": training.name,
            "completed_on": completed_on,
            "expires_on": expires_on,
        },
    )
    access_recompute(user=user)
    return completion


@transaction.atomic
def training_completion_delete(*, actor: User, completion: TrainingCompletion) -> None:
    require(actor, MANAGE, "remove training completions")
    user = completion.user
    require_may_change_person(actor, user, "training completions")
    audit_record(
        action="accounts.training.completion_removed",
        target=completion,
        before={
            "user": user.email,
            "training": completion.training.name,
            "completed_on": completion.completed_on,
        },
    )
    completion.delete()
    access_recompute(user=user)


# --- Assignments ------------------------------------------------------------------------------


@transaction.atomic
def role_assign(
    *, actor: User, user: User, role: Role, ends_at: dt.datetime | None = None
) -> AccessAssignment:
    """Give ``user`` a role explicitly, optionally until ``ends_at``."""
    require(actor, MANAGE, "assign roles")
    require_may_change_person(actor, user, "roles")
    if ends_at is not None:
        check_date(ends_at.date(), "ends_at")
    if ends_at is not None and ends_at <= timezone.now():
        raise ApplicationError(
            "The end of a time-bound role must be in the future.", code=AccessErrorCode.ENDS_IN_PAST
        )
    # Serialise changes to one person's access: concurrent calls cannot both pass the check.
    user = User.objects.select_for_update().get(pk=user.pk)
    if AccessAssignment.objects.filter(
        user=user, role=role, source=AssignmentSource.EXPLICIT, ended_at__isnull=True
    ).exists():
        raise ConflictError(
            f"{user} already has the {role} role.", code=AccessErrorCode.ALREADY_ASSIGNED
        )
    assignment = AccessAssignment.objects.create(
        user=user, role=role, source=AssignmentSource.EXPLICIT, assigned_by=actor, ends_at=ends_at
    )
    audit_record(
        action="accounts.assignment.created",
        target=assignment,
        metadata={"user": user.email, "role": role.name, "ends_at": ends_at},
    )
    access_recompute(user=user)
    return assignment


@transaction.atomic
def assignment_remove(
    *, actor: User, assignment: AccessAssignment, reason: str = ""
) -> AccessAssignment:
    """End an assignment by hand; a birthright one stays off for this person."""
    require(actor, MANAGE, "remove access")
    require_may_change_person(actor, assignment.user, "roles")
    if assignment.ended_at is not None:
        raise ConflictError("This access has already ended.", code=AccessErrorCode.ALREADY_ENDED)
    access_assignment_end(
        assignment=assignment, reason=reason or f"removed by {actor.full_name}", suppress=True
    )
    access_recompute(user=assignment.user)
    return assignment


# --- People's attributes --------------------------------------------------------------------


def birthright_reopen(*, user: User) -> None:
    """Let birthright roles removed from ``user`` by hand apply again (a new team or title
    is a new start); the caller recomputes their access."""
    AccessAssignment.objects.filter(
        user=user, source=AssignmentSource.BIRTHRIGHT, suppressed=True
    ).update(suppressed=False)


# --- Access requests --------------------------------------------------------------------------


def access_request_words(request: AccessRequest) -> str:
    """What a request asks for, in words: “the Team Lead role”, “Read the audit log”."""
    if request.role_id:
        return f"the {request.role.name} role"
    capability = get_capability(request.capability)
    return f"“{capability.label}” ({request.capability})" if capability else request.capability


def _request_url(request: AccessRequest) -> str:
    return reverse("access:request_detail", args=[request.pk])


def _notify_approvers(request: AccessRequest) -> None:
    """Tell everyone who may decide ``request`` that it waits for them, in the console and
    by email."""
    for approver in access_request_approvers(request):
        _notify_approver(request, approver)


def _notify_approver(request: AccessRequest, approver: User) -> bool:
    """Tell ``approver`` that ``request`` waits for them, once (whenever they became one)."""
    requester = request.requester
    return bool(
        notify(
            user=approver,
            title=(
                f"{requester.full_name} asks for {access_request_words(request)} "
                f"for {request.duration_days} day{'s' if request.duration_days != 1 else ''}"
            ),
            body=(
                f"{request.justification}\n\nYou may decide it: approve or reject it by "
                f"{timezone.localdate(request.expires_at):%Y-%m-%d}, when it lapses."
            ),
            url=_request_url(request),
            dedupe_key=f"accounts.access_request.asked:{request.pk}:{approver.pk}",
        )
    )


def access_requests_notify_new_approver(*, user: User) -> int:
    """Tell ``user`` of the pending requests they may decide and were not told of: they
    gained what it takes after the request was made (a role, a capability, tenure or a
    training). Each request is told once per approver, as when it was made. Returns how
    many notices went out."""
    from .selectors import access_request_inbox  # the selectors build on this module

    now = timezone.now()
    return sum(
        _notify_approver(request, user)
        for request in access_request_inbox(user=user)
        if request.expires_at > now
    )


def _notify_requester(request: AccessRequest, title: str, body: str) -> None:
    """Tell the requester what became of their request, in the console and by email."""
    notify(
        user=request.requester,
        title=title,
        body=body,
        url=_request_url(request),
        dedupe_key=f"accounts.access_request.{request.status}:{request.pk}",
    )


def requested_capabilities(request: AccessRequest) -> list[str]:
    """The capabilities a request would give: the one asked for, or every one of the role."""
    if request.role_id is None:
        return [request.capability]
    return sorted(request.role.capability_rules.values_list("capability", flat=True))


def access_request_holds_rights(user: User, request: AccessRequest) -> bool:
    """Whether ``user`` may hand out what ``request`` asks for: they manage access, or they
    hold every capability it would give. Nobody delegates a right they do not have."""
    if user_can(user, MANAGE):
        return True
    return all(user_can(user, code) for code in requested_capabilities(request))


def access_request_approvers(request: AccessRequest) -> list[User]:
    """Who may decide a request, never the requester: the role's owner and the requester's
    manager, each only if they hold what is asked for (or manage access); when neither
    may, the people who manage access."""
    candidates = []
    if request.role_id and request.role.owner.is_active:
        candidates.append(request.role.owner)
    manager = request.requester.manager
    if manager is not None and manager.is_active:
        candidates.append(manager)
    approvers = [
        u
        for u in {c.pk: c for c in candidates}.values()
        if u.pk != request.requester_id and access_request_holds_rights(u, request)
    ]
    if approvers:
        return approvers
    holders = Grant.objects.effective().filter(capability=MANAGE).values("user_id")
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(pk__in=holders))
        .exclude(pk=request.requester_id)
        .order_by("full_name")
    )


def access_request_can_decide(user: User, request: AccessRequest) -> bool:
    return (
        user.pk != request.requester_id
        and access_request_holds_rights(user, request)
        and any(a.pk == user.pk for a in access_request_approvers(request))
    )


@transaction.atomic
def access_request_create(
    *,
    requester: User,
    justification: str,
    duration_days: int,
    role: Role | None = None,
    capability: str = "",
) -> AccessRequest:
    """Ask for a role or a capability for ``duration_days``."""
    requester = User.objects.select_for_update().get(pk=requester.pk)
    if bool(role) == bool(capability):
        raise ApplicationError(
            "Ask for either a role or a capability.", code=AccessErrorCode.ROLE_OR_CAPABILITY
        )
    if capability:
        _check_capability(capability)
        if user_can(requester, capability):
            raise ConflictError(
                f"You already have “{capability_label(capability)}”.",
                code=AccessErrorCode.ALREADY_HELD,
            )
    if (
        role
        and AccessAssignment.objects.filter(
            user=requester, role=role, ended_at__isnull=True
        ).exists()
    ):
        raise ConflictError(f"You already have the {role} role.", code=AccessErrorCode.ALREADY_HELD)
    if not justification.strip():
        raise ApplicationError(
            "Say why you need this access.", code=AccessErrorCode.JUSTIFICATION_REQUIRED
        )
    if not 1 <= duration_days <= MAX_REQUEST_DAYS:
        raise ApplicationError(
            f"Ask for 1 to {MAX_REQUEST_DAYS} days.",
            code=AccessErrorCode.INVALID_DURATION,
            details={"duration_days": duration_days},
        )
    duplicate = AccessRequest.objects.filter(
        requester=requester, status=AccessRequestStatus.PENDING, role=role, capability=capability
    )
    if duplicate.exists():
        raise ConflictError(
            "You already have a pending request for this.", code=AccessErrorCode.DUPLICATE_REQUEST
        )
    now = timezone.now()
    request = AccessRequest.objects.create(
        requester=requester,
        role=role,
        capability=capability,
        justification=justification.strip(),
        duration_days=duration_days,
        expires_at=now + dt.timedelta(days=REQUEST_PENDING_DAYS),
    )
    audit_record(
        action="accounts.access_request.created",
        target=request,
        after={
            "subject": request.subject,
            "duration_days": duration_days,
            "justification": request.justification,
        },
    )
    _notify_approvers(request)
    return request


def _pending(request: AccessRequest) -> AccessRequest:
    request = (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("role__owner", "requester__manager")
        .get(pk=request.pk)
    )
    if request.status != AccessRequestStatus.PENDING:
        raise ConflictError(
            f"This request is already {request.get_status_display().lower()}.",
            code=AccessErrorCode.NOT_PENDING,
        )
    if request.expires_at <= timezone.now():
        raise ConflictError("This request has expired.", code=AccessErrorCode.NOT_PENDING)
    if not request.requester.is_active:
        raise ConflictError(
            "The requester is deactivated.", code=AccessErrorCode.REQUESTER_INACTIVE
        )
    return request


def _decide(actor: User, request: AccessRequest) -> None:
    if actor.pk == request.requester_id:
        raise PermissionDeniedError(
            "You cannot decide your own request.", code=AccessErrorCode.OWN_REQUEST
        )
    if access_request_can_decide(actor, request):
        return
    named = {request.requester.manager_id, request.role.owner_id if request.role_id else None}
    if actor.pk in named and not access_request_holds_rights(actor, request):
        lacking = [c for c in requested_capabilities(request) if not user_can(actor, c)]
        raise PermissionDeniedError(
            f"You cannot decide a request for {request.subject_label}: you do not hold "
            f"{_capability_words(lacking)} yourself. Someone who holds it, or who manages access, "
            "decides it.",
            code=AccessErrorCode.APPROVER_LACKS_CAPABILITY,
            details={"capabilities": lacking},
        )
    raise PermissionDeniedError(
        "Only the role's owner or the requester's manager, holding what is asked for, can "
        "decide this request (or, when neither can, the people who manage access).",
        code=AccessErrorCode.NOT_AN_APPROVER,
    )


def access_request_check_decider(*, actor: User, request: AccessRequest) -> None:
    """Refuse, as deciding would, a request that is no longer pending or an ``actor`` who
    may not decide it; change nothing (the question asked before a decision)."""
    if request.status != AccessRequestStatus.PENDING:
        raise ConflictError(
            f"This request is already {request.get_status_display().lower()}.",
            code=AccessErrorCode.NOT_PENDING,
        )
    _decide(actor, request)


def _check_reachable(request: AccessRequest, ends_at: dt.datetime) -> dict:
    """Refuse an approval whose capability's tenure cannot be reached before it ends; return
    when the access takes effect (an early approval waits for tenure and trainings)."""
    if request.role_id is not None:
        return {}
    rule = capability_rule(request.capability)
    person = request.requester
    available_on = rule.available_on(person)
    if available_on >= timezone.localdate(ends_at):
        raise ApplicationError(
            f"{person} reaches the {rule.min_tenure_days} days of tenure "
            f"“{capability_label(request.capability)}” needs on {available_on:%Y-%m-%d}, "
            "after this access would end "
            f"({timezone.localdate(ends_at):%Y-%m-%d}). Ask again nearer the date or for "
            "longer.",
            code=AccessErrorCode.TENURE_NOT_REACHED,
            details={
                "capability": request.capability,
                "min_tenure_days": rule.min_tenure_days,
                "available_on": str(available_on),
            },
        )
    waits = {}
    if available_on > timezone.localdate():
        waits["effective_on"] = available_on
    if rule.trainings:
        waits["trainings_required"] = [t.name for t in rule.trainings]
    return waits


@transaction.atomic
def access_request_approve(*, actor: User, request: AccessRequest, note: str = "") -> AccessRequest:
    """Approve: the access starts now and ends by itself after the requested duration."""
    request = _pending(request)
    _decide(actor, request)
    now = timezone.now()
    request.status = AccessRequestStatus.APPROVED
    request.decided_by, request.decided_at, request.decision_note = actor, now, note
    request.access_ends_at = now + dt.timedelta(days=request.duration_days)
    waits = _check_reachable(request, request.access_ends_at)
    request.save()
    assignment = AccessAssignment.objects.create(
        user=request.requester,
        role=request.role,
        capability=request.capability,
        source=AssignmentSource.REQUEST,
        access_request=request,
        assigned_by=actor,
        ends_at=request.access_ends_at,
    )
    audit_record(
        action="accounts.access_request.approved",
        target=request,
        after={"status": request.status, "access_ends_at": request.access_ends_at},
        metadata={"note": note, "assignment": assignment.pk, **waits},
    )
    access_recompute(user=request.requester)
    body = [f"You have it until {timezone.localdate(request.access_ends_at):%Y-%m-%d}."]
    if "effective_on" in waits:
        body.append(
            f"It starts on {waits['effective_on']:%Y-%m-%d}, when you reach the tenure it needs."
        )
    if "trainings_required" in waits:
        names = ", ".join(f"“{name}”" for name in waits["trainings_required"])
        body.append(f"It needs these trainings completed and valid: {names}.")
    if note:
        body.append(f"{actor.full_name}: {note}")
    _notify_requester(
        request,
        f"Your request for {access_request_words(request)} was approved by {actor.full_name}",
        "\n".join(body),
    )
    return request


@transaction.atomic
def access_request_reject(*, actor: User, request: AccessRequest, note: str = "") -> AccessRequest:
    request = _pending(request)
    _decide(actor, request)
    request.status = AccessRequestStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.save()
    audit_record(
        action="accounts.access_request.rejected",
        target=request,
        after={"status": request.status},
        metadata={"note": note},
    )
    _notify_requester(
        request,
        f"Your request for {access_request_words(request)} was rejected by {actor.full_name}",
        f"{actor.full_name}: {note}" if note else "",
    )
    return request


@transaction.atomic
def access_request_cancel(*, actor: User, request: AccessRequest) -> AccessRequest:
    request = _pending(request)
    if actor.pk != request.requester_id:
        raise PermissionDeniedError(
            "Only the requester can cancel a request.", code=AccessErrorCode.NOT_REQUESTER
        )
    request.status = AccessRequestStatus.CANCELLED
    request.decided_at = timezone.now()
    request.save()
    audit_record(
        action="accounts.access_request.cancelled", target=request, after={"status": request.status}
    )
    return request


def access_requests_cancel_for(*, user: User) -> int:
    """Cancel a deactivated person's open requests (audited), so none is approved later."""
    pending = list(AccessRequest.objects.filter(requester=user, status=AccessRequestStatus.PENDING))
    for request in pending:
        request.status = AccessRequestStatus.CANCELLED
        request.decided_at = timezone.now()
        request.decision_note = "Requester deactivated."
        request.save(update_fields=["status", "decided_at", "decision_note"])
        audit_record(
            action="accounts.access_request.cancelled",
            target=request,
            after={"status": request.status},
            metadata={"reason": "requester deactivated"},
        )
    return len(pending)


@transaction.atomic
def access_requests_expire(*, now: dt.datetime | None = None) -> int:
    """Close requests nobody decided within 30 days."""
    now = now or timezone.now()
    stale = list(
        AccessRequest.objects.select_for_update().filter(
            status=AccessRequestStatus.PENDING, expires_at__lte=now
        )
    )
    for request in stale:
        request.status = AccessRequestStatus.EXPIRED
        request.save(update_fields=["status"])
        audit_record(
            action="accounts.access_request.expired",
            target=request,
            after={"status": request.status},
        )
        _notify_requester(
            request,
            f"Your request for {access_request_words(request)} lapsed undecided",
            f"Nobody decided it within {REQUEST_PENDING_DAYS} days. Ask again if you still "
            "need it.",
        )
    return len(stale)


# --- Access reviews ------------------------------------------------------------------------------


def _reviewer_for(assignment: AccessAssignment, fallback: User) -> User:
    if (
        assignment.role_id
        and assignment.role.owner.is_active
        and assignment.role.owner_id != assignment.user_id
    ):
        return assignment.role.owner
    manager = assignment.user.manager
    if manager is not None and manager.is_active:
        return manager
    return fallback


@transaction.atomic
def review_campaign_create(
    *,
    actor: User,
    name: str,
    deadline: dt.datetime,
    unreviewed_policy: str,
    roles: Iterable[Role] = (),
    capabilities: Iterable[str] = (),
    description: str = "",
) -> ReviewCampaign:
    """Start a review of who holds these roles or capabilities now, one item per holder."""
    require(actor, MANAGE, "start access reviews")
    roles, capabilities = list(roles), sorted(set(capabilities))
    for code in capabilities:
        _check_capability(code)
    if not roles and not capabilities:
        raise ApplicationError(
            "Choose at least one role or capability to review.", code=AccessErrorCode.EMPTY_REVIEW
        )
    if deadline <= timezone.now():
        raise ApplicationError(
            "The deadline must be in the future.", code=AccessErrorCode.DEADLINE_IN_PAST
        )
    if unreviewed_policy not in ReviewPolicy.values:
        raise ApplicationError(
            "Choose keep or revoke for unreviewed items.", code=AccessErrorCode.INVALID_POLICY
        )
    campaign = ReviewCampaign.objects.create(
        name=name.strip(),
        description=description,
        created_by=actor,
        capabilities=capabilities,
        deadline=deadline,
        unreviewed_policy=unreviewed_policy,
    )
    campaign.roles.set(roles)
    now = timezone.now()
    in_scope: dict[int, set[str]] = {}
    for assignment in AccessAssignment.objects.filter(ended_at__isnull=True, role__in=roles):
        in_scope.setdefault(assignment.pk, set())
    for grant in Grant.objects.effective(now).filter(capability__in=capabilities):
        in_scope.setdefault(grant.assignment_id, set()).add(grant.capability)
    assignments = AccessAssignment.objects.filter(
        pk__in=in_scope, ended_at__isnull=True
    ).select_related("role__owner", "user__manager")
    to_review: dict[int, list[ReviewItem]] = {}
    for assignment in assignments:
        held = sorted(
            in_scope[assignment.pk]
            | set(
                Grant.objects.effective(now)
                .filter(assignment=assignment)
                .values_list("capability", flat=True)
            )
        )
        item = ReviewItem.objects.create(
            campaign=campaign,
            assignment=assignment,
            user=assignment.user,
            reviewer=_reviewer_for(assignment, actor),
            capabilities=held,
        )
        to_review.setdefault(item.reviewer_id, []).append(item)
    audit_record(
        action="accounts.review.created",
        target=campaign,
        after={
            "roles": sorted(r.name for r in roles),
            "capabilities": capabilities,
            "deadline": deadline,
            "unreviewed_policy": unreviewed_policy,
            "items": campaign.items.count(),
        },
    )
    _notify_reviewers(campaign, to_review, actor)
    return campaign


def _notify_reviewers(
    campaign: ReviewCampaign, to_review: dict[int, list[ReviewItem]], actor: User
) -> None:
    """Tell each reviewer, but the one who started the review, what waits for them."""
    deadline = timezone.localdate(campaign.deadline)
    policy = "kept" if campaign.unreviewed_policy == ReviewPolicy.KEEP else "revoked"
    for items in to_review.values():
        reviewer = items[0].reviewer
        if reviewer.pk == actor.pk:
            continue
        count = len(items)
        people = sorted({item.user.full_name for item in items})
        notify(
            user=reviewer,
            title=(
                f"Access review “{campaign.name}”: {count} item{'s' if count != 1 else ''} "
                f"for you to decide by {deadline:%Y-%m-%d}"
            ),
            body=(
                f"Keep or revoke the access of {', '.join(people)}. "
                f"What is not reviewed by the deadline is {policy}."
            ),
            url=reverse("access:review_detail", args=[campaign.pk]),
            dedupe_key=f"accounts.review.assigned:{campaign.pk}:{reviewer.pk}",
        )


def review_item_withdraws(item: ReviewItem) -> list[str] | None:
    """What revoking ``item`` takes away: None for the whole assignment, or the capabilities
    the review is about when it reviews them alone and the role stays."""
    assignment = item.assignment
    if assignment.role_id is None or item.campaign.roles.filter(pk=assignment.role_id).exists():
        return None
    return sorted(set(item.capabilities) & set(item.campaign.capabilities))


def review_item_can_decide(user: User, item: ReviewItem) -> bool:
    return user.pk != item.user_id and (item.reviewer_id == user.pk or user_can(user, MANAGE))


def _may_change_person(actor: User | None, person: User) -> bool:
    try:
        require_may_change_person(actor, person, "roles")
    except PermissionDeniedError:
        return False
    return True


def _apply(item: ReviewItem, decision: str, actor: User | None, note: str, by_policy: bool) -> None:
    item.decision, item.decided_by, item.decided_at = decision, actor, timezone.now()
    item.note, item.by_policy = note, by_policy
    item.save()
    audit_record(
        action=f"accounts.review.item_{decision}",
        target=item.campaign,
        metadata={
            "item": item.pk,
            "user": item.user.email,
            "subject": item.assignment.subject,
            "note": note,
            "by_policy": by_policy,
        },
    )
    assignment = item.assignment
    if decision != ReviewDecision.REVOKE or assignment.ended_at is not None:
        return
    withdrawn = review_item_withdraws(item)
    if withdrawn is None:
        access_assignment_end(
            assignment=assignment,
            reason=f"revoked in review “{item.campaign.name}”",
            suppress=True,
        )
    else:
        # The review was about some capabilities only: withdraw those, keep the role.
        before = list(assignment.excluded_capabilities or [])
        assignment.excluded_capabilities = sorted(set(before) | set(withdrawn))
        assignment.save(update_fields=["excluded_capabilities"])
        audit_record(
            action="accounts.assignment.capabilities_withdrawn",
            target=assignment,
            before={"excluded_capabilities": before},
            after={"excluded_capabilities": assignment.excluded_capabilities},
            metadata={"review": item.campaign.name, "user": item.user.email},
        )
    access_recompute(user=item.user)
    if withdrawn is None:
        title = f"Your {_assignment_words(assignment)} was revoked"
    else:
        role = assignment.role.name
        title = f"{_capability_words(withdrawn)} was withdrawn from your {role} role"
    who = actor.full_name if actor is not None else "The review's deadline"
    notify(
        user=item.user,
        title=f"{title} in the access review “{item.campaign.name}”",
        body=f"{who}: {note}" if note else "",
        url=reverse("access:my_access"),
        dedupe_key=f"accounts.review.revoked:{item.pk}",
    )


def _capability_words(codes: Iterable[str]) -> str:
    words = []
    for code in codes:
        capability = get_capability(code)
        words.append(f"“{capability.label}” ({code})" if capability else code)
    return ", ".join(words)


def _assignment_words(assignment: AccessAssignment) -> str:
    if assignment.role_id:
        return f"{assignment.role.name} role"
    return _capability_words([assignment.capability])


def review_item_outcome(item: ReviewItem) -> str:
    """Say what a decision on ``item`` kept or revoked, naming only what it touched."""
    person = item.user.full_name
    withdrawn = review_item_withdraws(item)
    if withdrawn is None:
        verb = "revoked" if item.decision == ReviewDecision.REVOKE else "kept"
        return f"{person}'s {_assignment_words(item.assignment)}: {verb}."
    what = _capability_words(withdrawn)
    role = item.assignment.role.name
    if item.decision == ReviewDecision.REVOKE:
        return f"{person}'s {what}: revoked; the rest of the {role} role stays."
    return f"{person}'s {what}: kept, with the {role} role."


@transaction.atomic
def review_item_decide(
    *, actor: User, item: ReviewItem, decision: str, note: str = ""
) -> ReviewItem:
    """Keep or revoke one item; revoking ends the access at once."""
    item = (
        ReviewItem.objects.select_for_update(of=("self",))
        .select_related("campaign", "assignment", "user")
        .get(pk=item.pk)
    )
    if not item.campaign.is_open or item.campaign.deadline <= timezone.now():
        raise ConflictError("This review is closed.", code=AccessErrorCode.REVIEW_CLOSED)
    if actor.pk == item.user_id:
        raise PermissionDeniedError(
            "You cannot review your own access.", code=AccessErrorCode.OWN_ACCESS
        )
    if not review_item_can_decide(actor, item):
        raise PermissionDeniedError(
            "Only the item's reviewer or an access manager can decide it.",
            code=AccessErrorCode.NOT_THE_REVIEWER,
        )
    if decision not in (ReviewDecision.KEEP, ReviewDecision.REVOKE):
        raise ApplicationError("Decide keep or revoke.", code=AccessErrorCode.INVALID_DECISION)
    if decision == ReviewDecision.REVOKE:
        require_may_change_person(actor, item.user, "roles")
    _apply(item, decision, actor, note, by_policy=False)
    return item


@transaction.atomic
def review_campaign_close(*, campaign: ReviewCampaign, actor: User | None = None) -> ReviewCampaign:
    """Close a review: undecided items follow the campaign's policy."""
    if actor is not None:
        require(actor, MANAGE, "close access reviews")
    campaign = ReviewCampaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_open:
        raise ConflictError("This review is already closed.", code=AccessErrorCode.REVIEW_CLOSED)
    pending = campaign.items.filter(decision=ReviewDecision.PENDING).select_related(
        "assignment", "user", "campaign"
    )
    decision = (
        ReviewDecision.REVOKE
        if campaign.unreviewed_policy == ReviewPolicy.REVOKE
        else ReviewDecision.KEEP
    )
    # The policy acts for whoever closes the review or, at the deadline, for whoever set it:
    # it does not revoke what that person may not change (their own access, a superuser's).
    decider = actor or campaign.created_by
    now = timezone.now()
    unreviewed = (
        f"closed early by {actor.full_name or actor.email} before it was reviewed"
        if actor is not None and now < campaign.deadline
        else "not reviewed by the deadline"
    )
    for item in pending:
        if decision == ReviewDecision.REVOKE and not _may_change_person(decider, item.user):
            note = "kept: the review's owner may not revoke it"
            _apply(item, ReviewDecision.KEEP, None, note, by_policy=True)
            continue
        _apply(item, decision, None, unreviewed, by_policy=True)
    campaign.closed_at = now
    campaign.save(update_fields=["closed_at"])
    audit_record(
        action="accounts.review.closed",
        target=campaign,
        metadata={"policy": campaign.unreviewed_policy},
    )
    return campaign


def review_campaigns_close_overdue(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    overdue = list(ReviewCampaign.objects.filter(closed_at__isnull=True, deadline__lte=now))
    for campaign in overdue:
        review_campaign_close(campaign=campaign)
    return len(overdue)


def grants_visible_filter(viewer: User) -> Q:
    """Whose grants ``viewer`` may read: their own, their reports', or everyone's."""
    if user_can(viewer, "accounts.view_access") or user_can(viewer, MANAGE):
        return Q()
    return Q(user=viewer) | Q(user__manager=viewer)
