"""The one permission check, and the engine that keeps grants in step with the rules.

``user_can(user, capability)`` answers every permission question in the console: the
authentication backend routes ``user.has_perm()`` (templates' ``perms``, DRF permission
classes) to it, and services and Celery tasks call it directly.

Grants are materialised: ``access_recompute(user=...)`` derives what a person should hold
from their active assignments (explicit, birthright, approved requests), tenure and valid
training completions, then grants what is missing and revokes what is no longer due, each
change audited. It runs immediately after every change that can matter, and daily for the
clock-driven ones (tenure reached, trainings expired, time-bound access ended).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_record
from martech.common.errors import NotFoundError, PermissionDeniedError

from .errors import AccessErrorCode
from .models import (
    AccessAssignment,
    AccessRequest,
    AccessRequestStatus,
    AssignmentSource,
    BirthrightRule,
    Grant,
    ReviewDecision,
    ReviewItem,
    RoleCapability,
    TrainingCompletion,
)
from .registry import all_capabilities, capability_label, get_capability

_CACHE_ATTR = "_martech_capabilities"
logger = logging.getLogger(__name__)


# --- The check ------------------------------------------------------------------------


def capabilities_of(user) -> frozenset[str]:
    """Return the capability codes ``user`` holds now (cached on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(c.code for c in all_capabilities())
        else:
            cached = frozenset(
                Grant.objects.effective().filter(user=user).values_list("capability", flat=True)
            )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def user_can(user, capability: str) -> bool:
    """Answer whether ``user`` holds ``capability`` now. Superusers hold every capability."""
    if user is None or not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    return capability in capabilities_of(user)


def require(user, capability: str, action: str = "do this") -> None:
    """Raise PermissionDeniedError unless ``user`` holds ``capability``."""
    if not user_can(user, capability):
        raise PermissionDeniedError(
            f"You need “{capability_label(capability)}” to {action}.",
            details={"capability": capability},
        )


def require_to_see(user, capability: str, message: str) -> None:
    """Raise NotFoundError unless ``user`` holds ``capability``, the view capability of an
    object's area: an object of an area the user cannot enter is not there for them (404,
    in the UI and the API alike); its list answers 403 and offers to request the capability.
    """
    if not user_can(user, capability):
        raise NotFoundError(message)


def may_change_person(actor, person) -> bool:
    """Whether ``actor`` may change ``person``'s access at all (see the function below)."""
    return actor.pk != person.pk and (actor.is_superuser or not person.is_superuser)


def require_may_change_person(actor, person, what: str) -> None:
    """Raise PermissionDeniedError unless ``actor`` may change ``person``'s ``what``.

    Nobody changes their own access (start date, trainings, roles, grants, active state):
    another person decides it. Only a superuser changes a superuser. ``actor`` None is the
    system itself (birthright rules, the daily job, the demo loader).
    """
    if actor is None:
        return
    if actor.pk == person.pk:
        raise PermissionDeniedError(
            f"You cannot change your own {what}; ask another access administrator.",
            code=AccessErrorCode.OWN_ACCESS,
            details={"user": person.pk},
        )
    if person.is_superuser and not actor.is_superuser:
        raise PermissionDeniedError(
            f"Only a superuser can change a superuser's {what}.",
            code=AccessErrorCode.SUPERUSER_PROTECTED,
            details={"user": person.pk},
        )


def forget_cached_capabilities(user) -> None:
    """Drop the per-object cache after grants changed."""
    if user is not None and hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


# --- What a person should hold, and why ----------------------------------------------


@dataclass
class Due:
    capability: str
    assignment: AccessAssignment
    reason: str
    expires_at: dt.datetime | None


@dataclass
class Pending:
    """A capability a role or an approved request offers that the person does not have yet."""

    capability: str
    assignment: AccessAssignment
    source: str  # "Lifecycle Marketing role", "Access request #12"
    available_on: dt.date | None  # when tenure allows it; None if trainings block it
    missing_trainings: list[str] = field(default_factory=list)

    def describe(self, today: dt.date) -> str:
        parts = []
        if self.available_on and self.available_on > today:
            days = (self.available_on - today).days
            parts.append(
                f"in {days} day{'s' if days != 1 else ''} (on {self.available_on:%Y-%m-%d})"
            )
        if self.missing_trainings:
            names = ", ".join(f"“{t}”" for t in self.missing_trainings)
            parts.append(f"after completing {names}")
        return " and ".join(parts)


@dataclass(frozen=True)
class CapabilityRule:
    """What a capability held outside a role needs: the strictest of every role's rule."""

    min_tenure_days: int
    trainings: tuple  # Training objects, by name

    def available_on(self, user: User) -> dt.date:
        return user.start_date + dt.timedelta(days=self.min_tenure_days)


def capability_rule(capability: str) -> CapabilityRule:
    """Return the rule a capability must meet when it is held on its own (an access request).

    A request is an exception to the roles, never an easier path than any of them: it needs
    the longest tenure and every training that any role sets for the capability. A
    capability no role gives has no tenure or training rule.
    """
    rules = list(RoleCapability.objects.filter(capability=capability).prefetch_related("trainings"))
    trainings = {t.pk: t for rule in rules for t in rule.trainings.all()}
    return CapabilityRule(
        max((rule.min_tenure_days for rule in rules), default=0),
        tuple(sorted(trainings.values(), key=lambda t: t.name)),
    )


def _end_of_day(day: dt.date) -> dt.datetime:
    """Return the moment a completion that expires on ``day`` stops counting."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _role_reason(assignment: AccessAssignment, rule: RoleCapability, user: User, trainings) -> str:
    parts = [f"{assignment.role.name} role"]
    if assignment.source == AssignmentSource.BIRTHRIGHT and assignment.birthright_rule_id:
        parts[0] += f" (birthright: {assignment.birthright_rule.describe()})"
    elif assignment.source == AssignmentSource.REQUEST and assignment.access_request_id:
        parts[0] += f" (access request #{assignment.access_request_id})"
    if rule.min_tenure_days:
        reached = user.start_date + dt.timedelta(days=rule.min_tenure_days)
        parts.append(f"tenure {rule.min_tenure_days} days reached on {reached:%Y-%m-%d}")
    for completion in trainings:
        name = completion.training.name
        if completion.expires_on:
            parts.append(f"training “{name}” valid until {completion.expires_on:%Y-%m-%d}")
        else:
            parts.append(f"training “{name}” completed {completion.completed_on:%Y-%m-%d}")
    if assignment.ends_at:
        parts.append(f"until {timezone.localtime(assignment.ends_at):%Y-%m-%d}")
    return ", ".join(parts)


def evaluate(user: User, *, now: dt.datetime | None = None) -> tuple[list[Due], list[Pending]]:
    """Return what ``user`` should hold now (with reasons) and what their roles still withhold."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if not user.is_active:
        return [], []
    assignments = list(
        AccessAssignment.objects.filter(user=user, ended_at__isnull=True)
        .select_related("role", "birthright_rule", "access_request__decided_by")
        .prefetch_related("role__capability_rules__trainings")
    )
    completions: dict[int, TrainingCompletion] = {}
    for completion in TrainingCompletion.objects.filter(user=user).select_related("training"):
        if not completion.is_valid_on(today):
            continue
        best = completions.get(completion.training_id)
        # Keep the completion that stays valid longest.
        if best is None or (
            best.expires_on is not None
            and (completion.expires_on is None or completion.expires_on > best.expires_on)
        ):
            completions[completion.training_id] = completion
    due: list[Due] = []
    pending: list[Pending] = []
    tenure = user.tenure_days(today)
    rules: dict[str, CapabilityRule] = {}
    for assignment in assignments:
        if not assignment.is_active(now) or assignment.starts_at > now:
            continue
        if assignment.role_id is None:
            # A capability held on its own keeps the capability's tenure and training rules:
            # an early approval waits, shown as upcoming, until they are met.
            if assignment.capability not in rules:
                rules[assignment.capability] = capability_rule(assignment.capability)
            rule = rules[assignment.capability]
            request = assignment.access_request
            source = f"Access request #{request.pk}" if request is not None else "Direct grant"
            valid = [completions[t.pk] for t in rule.trainings if t.pk in completions]
            missing = [t.name for t in rule.trainings if t.pk not in completions]
            tenure_ok = tenure >= rule.min_tenure_days
            if not (tenure_ok and not missing):
                if assignment.ends_at is None or rule.available_on(user) < timezone.localdate(
                    assignment.ends_at
                ):
                    pending.append(
                        Pending(
                            assignment.capability,
                            assignment,
                            source,
                            None if tenure_ok else rule.available_on(user),
                            missing,
                        )
                    )
                continue
            reason = "Granted directly"
            if request is not None:
                approver = request.decided_by.full_name if request.decided_by else "an approver"
                reason = f"Access request #{request.pk} approved by {approver}"
            parts = []
            if rule.min_tenure_days:
                reached = rule.available_on(user)
                parts.append(f"tenure {rule.min_tenure_days} days reached on {reached:%Y-%m-%d}")
            for completion in valid:
                name = completion.training.name
                if completion.expires_on:
                    parts.append(f"training “{name}” valid until {completion.expires_on:%Y-%m-%d}")
                else:
                    parts.append(f"training “{name}” completed {completion.completed_on:%Y-%m-%d}")
            if parts:
                reason += ", " + ", ".join(parts)
            if assignment.ends_at:
                reason += f", until {timezone.localtime(assignment.ends_at):%Y-%m-%d}"
            expiries = [assignment.ends_at] if assignment.ends_at else []
            expiries += [_end_of_day(c.expires_on) for c in valid if c.expires_on]
            due.append(
                Due(assignment.capability, assignment, reason, min(expiries) if expiries else None)
            )
            continue
        for rule in assignment.role.capability_rules.all():
            if rule.capability in (assignment.excluded_capabilities or []):
                continue
            required = list(rule.trainings.all())
            valid = [completions[t.pk] for t in required if t.pk in completions]
            missing = [t.name for t in required if t.pk not in completions]
            tenure_ok = tenure >= rule.min_tenure_days
            if tenure_ok and not missing:
                expiries = [assignment.ends_at] if assignment.ends_at else []
                expiries += [_end_of_day(c.expires_on) for c in valid if c.expires_on]
                due.append(
                    Due(
                        rule.capability,
                        assignment,
                        _role_reason(assignment, rule, user, valid),
                        min(expiries) if expiries else None,
                    )
                )
            elif assignment.ends_at is None or (
                user.start_date + dt.timedelta(days=rule.min_tenure_days)
                < timezone.localdate(assignment.ends_at)
            ):
                # Only promise what the assignment will still be there for.
                pending.append(
                    Pending(
                        rule.capability,
                        assignment,
                        f"{assignment.role.name} role",
                        user.start_date + dt.timedelta(days=rule.min_tenure_days)
                        if not tenure_ok
                        else None,
                        missing,
                    )
                )
    return due, pending


# --- Keeping grants in step ---------------------------------------------------------------


def _sync_birthright(user: User, now: dt.datetime, actor: User | None = None) -> None:
    rules = list(BirthrightRule.objects.select_related("role"))
    active = {
        a.role_id: a
        for a in AccessAssignment.objects.filter(
            user=user, source=AssignmentSource.BIRTHRIGHT, ended_at__isnull=True
        )
    }
    suppressed = set(
        AccessAssignment.objects.filter(
            user=user, source=AssignmentSource.BIRTHRIGHT, suppressed=True
        ).values_list("role_id", flat=True)
    )
    matching = {}
    if user.is_active:
        for rule in rules:
            if rule.matches(user) and rule.role_id not in matching:
                matching[rule.role_id] = rule
    for role_id, rule in matching.items():
        if role_id in active or role_id in suppressed:
            continue
        assignment = AccessAssignment.objects.create(
            user=user,
            role=rule.role,
            source=AssignmentSource.BIRTHRIGHT,
            birthright_rule=rule,
            starts_at=now,
        )
        audit_record(
            action="accounts.assignment.created",
            target=assignment,
            metadata={"user": user.email, "role": rule.role.name, "rule": rule.describe()},
        )
    if not user.is_active:
        # Deactivation ends every birthright role whatever the rules say; say who did it.
        reason = (
            f"deactivated by {actor.full_name or actor.email}" if actor else "person deactivated"
        )
    else:
        reason = "no birthright rule matches any more"
    for role_id, assignment in active.items():
        if role_id not in matching:
            access_assignment_end(assignment=assignment, reason=reason, now=now)


def access_assignment_end(
    *, assignment: AccessAssignment, reason: str, now=None, suppress: bool = False
) -> AccessAssignment:
    """End an assignment (its grants are revoked by the next recompute)."""
    now = now or timezone.now()
    assignment.ended_at = now
    assignment.end_reason = reason[:200]
    assignment.suppressed = suppress and assignment.source == AssignmentSource.BIRTHRIGHT
    assignment.save(update_fields=["ended_at", "end_reason", "suppressed"])
    audit_record(
        action="accounts.assignment.ended",
        target=assignment,
        metadata={"user": assignment.user.email, "subject": assignment.subject, "reason": reason},
    )
    return assignment


def _revoke_reason(grant: Grant, user: User, now: dt.datetime) -> str:
    if not user.is_active:
        return "person deactivated"
    assignment = grant.assignment
    if assignment.ended_at is not None:
        return assignment.end_reason or "assignment ended"
    if grant.capability in (assignment.excluded_capabilities or []):
        return "withdrawn in an access review"
    if assignment.ends_at is not None and assignment.ends_at <= now:
        return "time-bound access ended"
    if grant.expires_at is not None and grant.expires_at <= now:
        return "a required training expired"
    return "the role's rules no longer allow it"


@dataclass
class RecomputeResult:
    granted: int = 0
    revoked: int = 0
    updated: int = 0

    def __iadd__(self, other: RecomputeResult) -> RecomputeResult:
        self.granted += other.granted
        self.revoked += other.revoked
        self.updated += other.updated
        return self


@transaction.atomic
def access_recompute(
    *, user: User, now: dt.datetime | None = None, actor: User | None = None
) -> RecomputeResult:
    """Bring ``user``'s grants in line with their assignments, tenure and trainings.

    ``actor`` is who made the change that calls for it, named where a reason needs them
    (a birthright role ended because they deactivated the person); None is the system.
    """
    now = now or timezone.now()
    forget_cached_capabilities(user)
    user = User.objects.select_for_update().get(pk=user.pk)
    result = RecomputeResult()
    # Time-bound assignments that have run out are ended, so they show as ended.
    for assignment in AccessAssignment.objects.filter(
        user=user, ended_at__isnull=True, ends_at__lte=now
    ).select_related("role"):
        access_assignment_end(assignment=assignment, reason="time-bound access ended", now=now)
    _sync_birthright(user, now, actor)
    due, _pending = evaluate(user, now=now)
    wanted = {(d.capability, d.assignment.pk): d for d in due}
    current = {
        (g.capability, g.assignment_id): g
        for g in Grant.objects.filter(user=user, revoked_at__isnull=True).select_related(
            "assignment"
        )
    }
    for key, grant in current.items():
        if key in wanted:
            want = wanted[key]
            if grant.reason != want.reason or grant.expires_at != want.expires_at:
                before = {"reason": grant.reason, "expires_at": grant.expires_at}
                grant.reason, grant.expires_at = want.reason, want.expires_at
                grant.save(update_fields=["reason", "expires_at"])
                audit_record(
                    action="accounts.grant.updated",
                    target=grant,
                    before=before,
                    after={"reason": grant.reason, "expires_at": grant.expires_at},
                    metadata={"user": user.email, "capability": grant.capability},
                )
                result.updated += 1
            continue
        grant.revoked_at = now
        grant.revoke_reason = _revoke_reason(grant, user, now)[:200]
        grant.save(update_fields=["revoked_at", "revoke_reason"])
        audit_record(
            action="accounts.grant.revoked",
            target=grant,
            metadata={
                "user": user.email,
                "capability": grant.capability,
                "reason": grant.revoke_reason,
            },
        )
        result.revoked += 1
    for key, want in wanted.items():
        if key in current:
            continue
        grant = Grant.objects.create(
            user=user,
            capability=want.capability,
            assignment=want.assignment,
            reason=want.reason,
            granted_at=now,
            expires_at=want.expires_at,
        )
        audit_record(
            action="accounts.grant.granted",
            target=grant,
            metadata={"user": user.email, "capability": grant.capability, "reason": grant.reason},
        )
        result.granted += 1
    if result.granted:
        # Someone who can now decide requests made before hears of those waiting for them.
        from .services import access_requests_notify_new_approver

        forget_cached_capabilities(user)
        access_requests_notify_new_approver(user=user)
    return result


def access_recompute_all(*, now: dt.datetime | None = None) -> RecomputeResult:
    """Recompute every person, each in their own transaction (the daily job)."""
    total = RecomputeResult()
    for person in User.objects.order_by("pk").only("pk").iterator():
        try:
            total += access_recompute(user=person, now=now)
        except Exception:
            # One person's failure must not stop everyone else's access from updating.
            logger.exception("Recomputing access failed for person %s", person.pk)
    return total


# --- Explaining access to people -----------------------------------------------------------


@dataclass
class RequestWaiting:
    """A pending request that would give a capability, and who may decide it."""

    pk: int
    role: str  # the role asked for, or "" for the capability alone
    created_at: dt.datetime
    approvers: list[str]

    def describe(self) -> str:
        what = f" with the {self.role} role" if self.role else ""
        return (
            f"Requested{what} on {timezone.localdate(self.created_at):%Y-%m-%d}, waiting for "
            f"{names_joined(self.approvers, 'or', nobody='an access administrator')}"
        )


@dataclass
class CapabilityStatus:
    code: str
    label: str
    description: str
    sensitive: bool
    status: str  # "granted", "upcoming" or "lacking"
    reasons: list[str]
    expires_at: dt.datetime | None = None
    # Why a lacking capability is lacking: "deactivated", "revoked" (withdrawn or lapsed),
    # "after_grant_ends" (the person's own grant gives it only once its tenure is reached,
    # after the grant ends), "other_roles" (another role gives it) or "no_role".
    lacking: str = ""
    other_roles: list[str] = field(default_factory=list)
    requests: list[RequestWaiting] = field(default_factory=list)


def names_joined(names: list[str], word: str, *, nobody: str = "", limit: int = 3) -> str:
    """“Sam Okafor”, “Sam Okafor or Dana Whitfield”, “A, B, C or 2 others” (``word`` "or")."""
    if not names:
        return nobody
    if len(names) > limit:
        rest = len(names) - limit
        return f"{', '.join(names[:limit])} {word} {rest} other{'s' if rest != 1 else ''}"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} {word} {names[-1]}"


def _roles_giving() -> dict[str, list[str]]:
    """Capability code -> the names of the roles that give it."""
    giving: dict[str, list[str]] = {}
    for code, name in RoleCapability.objects.order_by("role__name").values_list(
        "capability", "role__name"
    ):
        giving.setdefault(code, []).append(name)
    return giving


def _requests_waiting(user: User) -> dict[str, list[RequestWaiting]]:
    """Capability code -> the person's pending requests that would give it."""
    from .services import access_request_approvers  # the rule of who decides

    waiting: dict[str, list[RequestWaiting]] = {}
    pending = (
        AccessRequest.objects.filter(
            requester=user, status=AccessRequestStatus.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("role__owner", "requester__manager")
        .prefetch_related("role__capability_rules")
        .order_by("created_at")
    )
    for request in pending:
        entry = RequestWaiting(
            request.pk,
            request.role.name if request.role_id else "",
            request.created_at,
            [a.full_name for a in access_request_approvers(request)],
        )
        codes = (
            [rule.capability for rule in request.role.capability_rules.all()]
            if request.role_id
            else [request.capability]
        )
        for code in codes:
            waiting.setdefault(code, []).append(entry)
    return waiting


def _review_withdrawals(user: User) -> dict[str, str]:
    """Capability code -> how an access review took it away, the latest review first."""
    withdrawn: dict[str, str] = {}
    items = (
        ReviewItem.objects.filter(user=user, decision=ReviewDecision.REVOKE)
        .select_related("campaign", "decided_by", "assignment__role")
        .prefetch_related("assignment__role__capability_rules")
        .order_by("-decided_at")
    )
    for item in items:
        assignment = item.assignment
        if assignment.ended_at is None:
            # The role stays; the review withdrew the capabilities it was about.
            codes = set(assignment.excluded_capabilities or []) & set(item.campaign.capabilities)
        elif assignment.role_id:
            codes = {rule.capability for rule in assignment.role.capability_rules.all()}
        else:
            codes = {assignment.capability}
        day = timezone.localdate(item.decided_at) if item.decided_at else None
        if item.by_policy:
            how = f"Revoked when the access review “{item.campaign.name}” closed"
            how += f" on {day:%Y-%m-%d}: {item.note}" if day else f": {item.note}"
        else:
            who = item.decided_by.full_name if item.decided_by else "a reviewer"
            how = f"Revoked in the access review “{item.campaign.name}” by {who}"
            how += f" on {day:%Y-%m-%d}" if day else ""
        if assignment.role_id and assignment.ended_at is not None:
            how += f" (the whole {assignment.role.name} role)"
        for code in codes:
            withdrawn.setdefault(code, how)
    return withdrawn


def _after_grants_end(user: User, now: dt.datetime, whose: str) -> dict[str, list[str]]:
    """Capability code -> why the person's own time-bound grants give it only too late.

    A role or an approved request in force gives a capability once the person's tenure
    reaches the rule's; when that day comes only after the grant ends, the capability is
    neither held nor coming up (``evaluate`` promises only what the grant is there for), and
    the grant is the reason, not the absence of a role.
    """
    today = timezone.localdate(now)
    tenure = user.tenure_days(today)
    later: dict[str, list[str]] = {}
    assignments = (
        AccessAssignment.objects.filter(
            user=user, ended_at__isnull=True, ends_at__isnull=False, starts_at__lte=now
        )
        .filter(ends_at__gt=now)
        .select_related("role")
        .prefetch_related("role__capability_rules")
        .order_by("ends_at", "pk")
    )
    for assignment in assignments:
        ends_on = timezone.localdate(assignment.ends_at)
        if assignment.role_id:
            source = f"The {assignment.role.name} role"
            offered = [
                (rule.capability, rule.min_tenure_days)
                for rule in assignment.role.capability_rules.all()
                if rule.capability not in (assignment.excluded_capabilities or [])
            ]
        else:
            request = assignment.access_request_id
            source = f"Access request #{request}" if request else "A direct grant"
            rule = capability_rule(assignment.capability)
            offered = [(assignment.capability, rule.min_tenure_days)]
        for code, days in offered:
            available_on = user.start_date + dt.timedelta(days=days)
            if tenure >= days or available_on < ends_on:
                continue  # held, or coming up while the grant lasts
            tenure_words = f"{days} day's" if days == 1 else f"{days} days'"
            later.setdefault(code, []).append(
                f"{source} gives it after {tenure_words} tenure (on {available_on:%Y-%m-%d}), "
                f"after {whose} grant ends on {ends_on:%Y-%m-%d}"
            )
    return later


def _lapsed(user: User, now: dt.datetime) -> dict[str, str]:
    """Capability code -> when and why the person's last grant of it ended."""
    lapsed: dict[str, str] = {}
    ended = (
        Grant.objects.filter(user=user)
        .filter(Q(revoked_at__isnull=False) | Q(expires_at__lte=now))
        .select_related("assignment")
        .order_by("-granted_at")
    )
    for grant in ended:
        if grant.capability in lapsed:
            continue
        when = grant.revoked_at or grant.expires_at
        why = grant.revoke_reason or _revoke_reason(grant, user, now)
        lapsed[grant.capability] = f"Held until {timezone.localdate(when):%Y-%m-%d}: {why}"
    return lapsed


def explain(
    user: User, *, now: dt.datetime | None = None, viewer: User | None = None
) -> list[CapabilityStatus]:
    """Return every capability with whether ``user`` holds it and why, or what is missing.

    A capability not held says why, most telling first: an access review revoked it, it
    lapsed, the person's own grant gives it only after it ends, another role gives it, or no
    role does; a pending request for it says who it waits for. ``viewer`` is who reads it:
    the person themselves reads “your roles”.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    grants: dict[str, list[Grant]] = {}
    if user.is_active:
        for grant in Grant.objects.effective(now).filter(user=user):
            grants.setdefault(grant.capability, []).append(grant)
    _due, pending = evaluate(user, now=now)
    waiting: dict[str, list[Pending]] = {}
    for item in pending:
        waiting.setdefault(item.capability, []).append(item)
    explaining = user.is_active and not user.is_superuser
    requests = _requests_waiting(user) if explaining else {}
    withdrawn = _review_withdrawals(user) if explaining else {}
    lapsed = _lapsed(user, now) if explaining else {}
    giving = _roles_giving() if explaining else {}
    own_roles = (
        set(
            AccessAssignment.objects.filter(
                user=user, ended_at__isnull=True, role__isnull=False
            ).values_list("role__name", flat=True)
        )
        if explaining
        else set()
    )
    whose = "your" if viewer is not None and viewer.pk == user.pk else "their"
    too_late = _after_grants_end(user, now, whose) if explaining else {}
    statuses = []
    for capability in all_capabilities():
        code = capability.code
        held = grants.get(code, [])
        expires_at = None
        lacking, others = "", []
        if user.is_active and user.is_superuser:
            status, reasons = "granted", ["Superuser: holds every capability"]
        elif held:
            status, reasons = "granted", [g.reason for g in held]
            expiries = [g.expires_at for g in held if g.expires_at]
            # The capability lapses only when its last grant does.
            expires_at = max(expiries) if len(expiries) == len(held) else None
        elif code in waiting:
            status = "upcoming"
            reasons = [f"{p.source}: {p.describe(today)}" for p in waiting[code]]
        elif not user.is_active:
            status, lacking, reasons = "lacking", "deactivated", ["Person is deactivated"]
        else:
            status = "lacking"
            others = [name for name in giving.get(code, []) if name not in own_roles]
            if code in withdrawn:
                lacking, reasons = "revoked", [withdrawn[code]]
            elif code in lapsed:
                lacking, reasons = "revoked", [lapsed[code]]
            elif code in too_late:
                lacking, reasons = "after_grant_ends", list(too_late[code])
            elif others:
                names = names_joined(others, "and", limit=len(others))
                does = "roles do" if len(others) > 1 else "role does"
                lacking = "other_roles"
                reasons = [f"None of {whose} roles gives it; the {names} {does}"]
            else:
                lacking, reasons = "no_role", ["No role gives it"]
        asked = requests.get(code, []) if status != "granted" else []
        reasons += [r.describe() for r in asked]
        statuses.append(
            CapabilityStatus(
                code,
                capability.label,
                capability.description,
                capability.sensitive,
                status,
                reasons,
                expires_at,
                lacking,
                others,
                asked,
            )
        )
    return statuses


# The sections of "what you can do, and why", in the order they are shown.
STATUS_GROUPS = [
    ("held", "Held"),
    ("upcoming", "Coming up"),
    ("requested", "Requested"),
    ("revoked", "Taken away"),
    ("after_grant_ends", "Only after a grant ends"),
    ("other_roles", "Another role gives it"),
    ("no_role", "Given by no role"),
    ("deactivated", "Deactivated"),
]


def status_groups(statuses: list[CapabilityStatus]) -> list[tuple[str, str, list]]:
    """Sort capabilities into sections, what is held first; each section by area, then by
    name. Return (key, title, statuses) for every section that is not empty."""
    sections: dict[str, list[CapabilityStatus]] = {key: [] for key, _title in STATUS_GROUPS}
    for status in statuses:
        if status.status == "granted":
            key = "held"
        elif status.status == "upcoming":
            key = "upcoming"
        elif status.requests:
            key = "requested"
        else:
            key = status.lacking or "no_role"
        sections[key].append(status)
    return [
        (key, title, sorted(sections[key], key=lambda s: (s.code.split(".")[0], s.label)))
        for key, title in STATUS_GROUPS
        if sections[key]
    ]


def assignments_with_start(user: User, *, now: dt.datetime | None = None) -> list:
    """Return ``user``'s open assignments, each with ``label`` (the role's name or the
    capability in words) and ``starts`` (“starts on 2026-12-24”, or "" once in force)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    waiting = {
        p.assignment.pk: p
        for p in evaluate(user, now=now)[1]
        if p.assignment.role_id is None  # a role in force may still wait for some of its parts
    }
    assignments = list(
        AccessAssignment.objects.filter(user=user, ended_at__isnull=True).select_related("role")
    )
    for assignment in assignments:
        capability = get_capability(assignment.capability) if assignment.capability else None
        assignment.label = (
            assignment.role.name
            if assignment.role_id
            else (capability.label if capability else assignment.capability)
        )
        assignment.starts = ""
        if assignment.starts_at > now:
            assignment.starts = f"starts on {timezone.localdate(assignment.starts_at):%Y-%m-%d}"
        elif assignment.pk in waiting:
            item = waiting[assignment.pk]
            if item.available_on and item.available_on > today:
                assignment.starts = f"starts on {item.available_on:%Y-%m-%d}"
            if item.missing_trainings:
                names = ", ".join(f"“{t}”" for t in item.missing_trainings)
                assignment.starts += (
                    f"{' and ' if assignment.starts else 'starts '}after completing {names}"
                )
    return assignments


def upcoming_messages(user: User, *, now: dt.datetime | None = None) -> list[str]:
    """Sentences like “In 12 days you will be able to run production syncs.”"""
    now = now or timezone.now()
    today = timezone.localdate(now)
    held = capabilities_of(user)
    messages = []
    seen = set()
    for item in sorted(evaluate(user, now=now)[1], key=lambda p: p.available_on or dt.date.max):
        if item.capability in held or item.capability in seen:
            continue
        seen.add(item.capability)
        capability = get_capability(item.capability)
        label = capability.label.lower() if capability else item.capability
        when = item.describe(today)
        messages.append(f"{when[0].upper()}{when[1:]} you will be able to {label}.")
    return messages
