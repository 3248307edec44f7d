"""Reads of roles, trainings, grants, requests and reviews, restricted to what the asking
user may see."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from apps.accounts.selectors import user_get
from martech.common.errors import NotFoundError, PermissionDeniedError
from martech.common.navigation import SearchResult

from .filters import (
    AccessRequestFilter,
    AssignmentFilter,
    CompletionFilter,
    GrantFilter,
    ReviewItemFilter,
    RoleFilter,
    TrainingFilter,
)
from .models import (
    AccessAssignment,
    AccessRequest,
    AccessRequestStatus,
    Grant,
    ReviewCampaign,
    ReviewItem,
    Role,
    Training,
    TrainingCompletion,
)
from .rules import user_can
from .services import access_request_can_decide, grants_visible_filter


def can_view_access_of(viewer, person) -> bool:
    """A person's capabilities are visible to themselves, their manager, and access staff."""
    return (
        viewer.pk == person.pk
        or person.manager_id == viewer.pk
        or user_can(viewer, "accounts.view_access")
        or user_can(viewer, "accounts.manage_access")
    )


def user_access_get(*, user, pk: int):
    """Return a person whose access ``user`` may read: 404 if unknown, 403 if not theirs."""
    person = user_get(user=user, pk=pk)
    if not can_view_access_of(user, person):
        raise PermissionDeniedError("You can see this person, but not their access.")
    return person


def role_list(*, user, filters: dict | None = None) -> QuerySet[Role]:
    """Every role, with its holder count; the catalogue is visible to everyone signed in."""
    queryset = (
        Role.objects.select_related("owner")
        .annotate(
            holder_count=Count(
                "assignments__user",
                filter=Q(assignments__ended_at__isnull=True),
                distinct=True,
            ),
            capability_count=Count("capability_rules", distinct=True),
        )
        .order_by("name")
    )
    return RoleFilter(filters or {}, queryset=queryset).qs


def role_get(*, user, pk: int) -> Role:
    role = Role.objects.select_related("owner").filter(pk=pk).first()
    if role is None:
        raise NotFoundError("No such role.")
    return role


def training_list(*, user, filters: dict | None = None) -> QuerySet[Training]:
    queryset = (
        Training.objects.select_related("owner")
        .annotate(completion_count=Count("completions", distinct=True))
        .order_by("name")
    )
    return TrainingFilter(filters or {}, queryset=queryset).qs


def training_get(*, user, pk: int) -> Training:
    training = Training.objects.select_related("owner").filter(pk=pk).first()
    if training is None:
        raise NotFoundError("No such training.")
    return training


def completion_list(*, user, filters: dict | None = None) -> QuerySet[TrainingCompletion]:
    """Completions of the people whose access ``user`` may read."""
    queryset = TrainingCompletion.objects.select_related("user", "training", "recorded_by")
    if not (user_can(user, "accounts.view_access") or user_can(user, "accounts.manage_access")):
        queryset = queryset.filter(Q(user=user) | Q(user__manager=user))
    return CompletionFilter(filters or {}, queryset=queryset).qs


def assignment_list(*, user, filters: dict | None = None) -> QuerySet[AccessAssignment]:
    queryset = AccessAssignment.objects.select_related("user", "role", "assigned_by").filter(
        grants_visible_filter(user)
    )
    return AssignmentFilter(filters or {}, queryset=queryset).qs


def assignment_get(*, user, pk: int) -> AccessAssignment:
    found = assignment_list(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("No such assignment.")
    return found


def grant_list(*, user, filters: dict | None = None) -> QuerySet[Grant]:
    queryset = Grant.objects.select_related("user", "assignment__role").filter(
        grants_visible_filter(user)
    )
    return GrantFilter(filters or {}, queryset=queryset).qs


def _requests_visible_to(user) -> QuerySet[AccessRequest]:
    queryset = AccessRequest.objects.select_related(
        "requester__manager", "role__owner", "decided_by"
    )
    if user_can(user, "accounts.manage_access") or user_can(user, "accounts.view_access"):
        return queryset
    return queryset.filter(Q(requester=user) | Q(requester__manager=user) | Q(role__owner=user))


def access_request_list(*, user, filters: dict | None = None) -> QuerySet[AccessRequest]:
    return AccessRequestFilter(
        filters or {}, queryset=_requests_visible_to(user), request_user=user
    ).qs


def access_request_get(*, user, pk: int) -> AccessRequest:
    found = _requests_visible_to(user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("No such access request.")
    return found


def access_request_inbox(*, user) -> list[AccessRequest]:
    """Pending requests ``user`` can decide.

    The rule of ``services.access_request_approvers``: the role's active owner and
    the requester's active manager decide, each only if they hold what is asked for (or
    manage access), never the requester; when neither may, the people who manage access
    do. One query finds the requests ``user`` is a candidate for; the rule itself, which
    depends on everyone's grants, is then the service's own.
    """

    candidate = Q(role__owner=user) | Q(requester__manager=user)
    if user_can(user, "accounts.manage_access"):
        candidate = Q()
    pending = (
        AccessRequest.objects.select_related("requester__manager", "role__owner", "decided_by")
        .prefetch_related("role__capability_rules")
        .filter(status=AccessRequestStatus.PENDING)
        .exclude(requester=user)
        .filter(candidate)
        .order_by("created_at")
    )
    return [r for r in pending if access_request_can_decide(user, r)]


def _reviews_visible_to(user) -> QuerySet[ReviewCampaign]:
    queryset = ReviewCampaign.objects.select_related("created_by").annotate(
        item_count=Count("items", distinct=True),
        decided_count=Count("items", filter=~Q(items__decision="pending"), distinct=True),
    )
    if user_can(user, "accounts.manage_access"):
        return queryset
    return queryset.filter(items__reviewer=user).distinct()


def review_list(*, user, filters: dict | None = None) -> QuerySet[ReviewCampaign]:
    return _reviews_visible_to(user).order_by("-created_at")


def review_get(*, user, pk: int) -> ReviewCampaign:
    found = _reviews_visible_to(user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("No such access review.")
    return found


def review_item_list(*, user, filters: dict | None = None) -> QuerySet[ReviewItem]:
    """Review items ``user`` may see: all for access managers, else the ones they review."""
    items = ReviewItem.objects.select_related(
        "campaign", "user", "reviewer", "assignment__role", "decided_by"
    )
    if not user_can(user, "accounts.manage_access"):
        items = items.filter(reviewer=user)
    return ReviewItemFilter(filters or {}, queryset=items).qs


def review_items_for(*, user, campaign: ReviewCampaign) -> QuerySet[ReviewItem]:
    """The items of one campaign ``user`` may see."""
    return review_item_list(user=user).filter(campaign=campaign)


def review_item_get(*, user, pk: int) -> ReviewItem:
    item = ReviewItem.objects.select_related("campaign", "user", "assignment").filter(pk=pk).first()
    if item is None or not (
        user_can(user, "accounts.manage_access") or item.reviewer_id == user.pk
    ):
        raise NotFoundError("No such review item.")
    return item


def role_palette_search(*, user, query: str, limit: int) -> list[SearchResult]:
    """Find roles by name for the command palette."""
    return [
        SearchResult(
            title=role.name,
            url=reverse("access:role_detail", args=[role.pk]),
            kind="Role",
            subtitle=f"owned by {role.owner.full_name}",
        )
        for role in Role.objects.select_related("owner")
        .filter(name__icontains=query)
        .order_by("name")[:limit]
    ]
