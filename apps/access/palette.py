"""What the command palette offers to do about access: each offer is a link to the page
that does it (the request form prefilled, or the action's own confirmation), offered only
to those the action would accept."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse

from apps.accounts.models import User
from martech.common.navigation import ACTIONS, SearchResult, verb_rest

from . import selectors
from .models import AccessAssignment, Role
from .registry import all_capabilities, get_capability
from .rules import may_change_person, user_can

MANAGE = "accounts.manage_access"
REQUEST_VERBS = ("request", "ask for")
DECIDE_VERBS = ("approve", "reject", "decide")
GRANT_VERBS = ("grant", "assign")
REVOKE_VERBS = ("revoke", "remove")
VERBS = REQUEST_VERBS + DECIDE_VERBS + GRANT_VERBS + REVOKE_VERBS
# Words that join the parts of "grant <role> to <person>" and "revoke <role> from <person>".
FILLER = {"to", "from", "role", "the", "for", "a", "an"}


def _words(rest: str) -> list[str]:
    return [w for w in rest.lower().split() if w not in FILLER]


def _found(words: list[str], *texts: str) -> bool:
    haystack = " ".join(texts).lower()
    return all(word in haystack for word in words)


def _label(code: str) -> str:
    capability = get_capability(code)
    return capability.label if capability else code


def _url(name: str, *args, **query) -> str:
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


def access_palette_actions(*, user, query: str, limit: int) -> list[SearchResult]:
    """Offer to request access, decide requests, grant and revoke roles."""
    results: list[SearchResult] = []
    for offer in (_requests, _decisions, _grants, _revocations):
        results.extend(offer(user, query, limit))
    return results


def _requests(user, query: str, limit: int) -> list[SearchResult]:
    rest = verb_rest(query, REQUEST_VERBS)
    if rest is None:
        return []
    words = _words(rest)
    out = [
        SearchResult(
            title=f"Request capability: {capability.label}",
            url=_url("access:request_create", capability=capability.code),
            kind="Request",
            subtitle=capability.description,
            group=ACTIONS,
        )
        for capability in all_capabilities()
        if not user_can(user, capability.code)
        and _found(words, capability.label, capability.code.replace("_", " "))
    ][:limit]
    roles = Role.objects.order_by("name")
    out += [
        SearchResult(
            title=f"Request role: {role.name}",
            url=_url("access:request_create", role=role.pk),
            kind="Request",
            subtitle=role.description,
            group=ACTIONS,
        )
        for role in roles
        if _found(words, role.name)
    ][: max(limit - len(out), 2)]
    return out


def _decisions(user, query: str, limit: int) -> list[SearchResult]:
    rest = verb_rest(query, DECIDE_VERBS)
    if rest is None:
        return []
    typed = query.split()[0].lower()
    verbs = [v for v in ("approve", "reject") if v.startswith(typed)] or ["approve", "reject"]
    words = _words(rest)
    out = []
    for request in selectors.access_request_inbox(user=user):
        what = request.role.name if request.role_id else _label(request.capability)
        if not _found(words, what, request.requester.full_name, f"#{request.pk}"):
            continue
        for v in verbs:
            out.append(
                SearchResult(
                    title=f"{v.capitalize()} request #{request.pk} from "
                    f"{request.requester.full_name}: {what}",
                    url=reverse(f"access:request_{v}", args=[request.pk]),
                    kind="Access request",
                    subtitle=f"for {request.duration_days} days · {request.justification}"[:120],
                    group=ACTIONS,
                )
            )
    return out[:limit]


def _grants(user, query: str, limit: int) -> list[SearchResult]:
    rest = verb_rest(query, GRANT_VERBS)
    if rest is None or not user_can(user, MANAGE):
        return []
    words = _words(rest)
    if not words:
        return []
    out = []
    for role in Role.objects.order_by("name"):
        named = [w for w in words if w in role.name.lower()]
        person_words = [w for w in words if w not in named]
        if not named or not person_words:
            continue
        people = User.objects.filter(is_active=True)
        for word in person_words:
            people = people.filter(Q(full_name__icontains=word) | Q(email__icontains=word))
        holders = AccessAssignment.objects.filter(role=role, ended_at__isnull=True).values("user")
        for person in people.exclude(pk__in=holders).order_by("full_name")[:limit]:
            if may_change_person(user, person):
                out.append(
                    SearchResult(
                        title=f"Grant role {role.name} to {person.full_name}",
                        url=_url("access:user_assign_role", person.pk, role=role.pk),
                        kind="Role",
                        subtitle=" · ".join(filter(None, [person.job_title, person.team])),
                        group=ACTIONS,
                    )
                )
    return out[:limit]


def _revocations(user, query: str, limit: int) -> list[SearchResult]:
    rest = verb_rest(query, REVOKE_VERBS)
    if rest is None or not user_can(user, MANAGE):
        return []
    words = _words(rest)
    assignments = (
        selectors.assignment_list(user=user)
        .filter(ended_at__isnull=True)
        .select_related("user", "role")
        .order_by("user__full_name", "role__name", "capability")
    )
    out = []
    for assignment in assignments:
        subject = assignment.role.name if assignment.role_id else _label(assignment.capability)
        if not _found(words, subject, assignment.user.full_name, assignment.user.email):
            continue
        if not may_change_person(user, assignment.user):
            continue
        since = f"{assignment.get_source_display().lower()} since {assignment.starts_at:%Y-%m-%d}"
        out.append(
            SearchResult(
                title=f"Revoke {subject} from {assignment.user.full_name}",
                url=reverse("access:assignment_remove", args=[assignment.pk]),
                kind="Role" if assignment.role_id else "Capability",
                subtitle=" · ".join(filter(None, [assignment.user.team, since])),
                group=ACTIONS,
            )
        )
        if len(out) >= limit:
            break
    return out
