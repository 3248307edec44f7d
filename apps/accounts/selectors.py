"""Reads of people and tokens, restricted to what the asking user may see."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.access.models import AccessAssignment
from apps.access.rules import user_can
from martech.common.errors import NotFoundError
from martech.common.navigation import SearchResult

from .filters import NotificationFilter, UserFilter
from .models import ApiToken, Notification, User


def user_list(*, user, filters: dict | None = None) -> QuerySet[User]:
    """Return the people directory, which every signed-in person may read."""
    active = AccessAssignment.objects.filter(ended_at__isnull=True).select_related("role")
    queryset = (
        User.objects.select_related("manager")
        .prefetch_related(Prefetch("assignments", queryset=active, to_attr="active_assignments"))
        .order_by("full_name", "email")
    )
    return UserFilter(filters or {}, queryset=queryset).qs


def user_get(*, user, pk: int) -> User:
    """Return one person from the directory."""
    found = User.objects.select_related("manager").filter(pk=pk).first()
    if found is None:
        raise NotFoundError("No such person.")
    return found


def user_palette_search(*, user, query: str, limit: int) -> list[SearchResult]:
    """Find people by name, email or team for the command palette."""
    matches = User.objects.filter(
        Q(full_name__icontains=query) | Q(email__icontains=query) | Q(team__icontains=query)
    ).order_by("full_name")[:limit]
    return [
        SearchResult(
            title=person.full_name,
            url=reverse("accounts:user_detail", args=[person.pk]),
            kind="Person",
            subtitle=" · ".join(filter(None, [person.job_title, person.team])),
        )
        for person in matches
    ]


def api_token_list(*, user) -> QuerySet[ApiToken]:
    """Return ``user``'s own tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def api_token_get(*, user, pk: int) -> ApiToken:
    """Return one of ``user``'s own tokens; another person's token does not exist for them."""
    token = ApiToken.objects.filter(user=user, pk=pk).select_related("user").first()
    if token is None:
        raise NotFoundError("No such API token.")
    return token


def notification_list(*, user, filters: dict | None = None) -> QuerySet[Notification]:
    """Return ``user``'s own notifications, newest first."""
    notifications = Notification.objects.filter(user=user).order_by("-created_at")
    return NotificationFilter(filters or {}, queryset=notifications).qs


# --- Multi-factor authentication ---------------------------------------------------------------

# The kinds of second factor a person signs in with, each a django-otp device model; recovery
# codes (a StaticDevice) back them up and are not one of them. A new kind (a passkey) is
# added here and gets its own enrolment page; sign-in asks for whichever the person holds.
SECOND_FACTORS = (TOTPDevice,)


def mfa_devices(*, user) -> list[Device]:
    """Return the person's confirmed second factors, oldest first."""
    found = [d for model in SECOND_FACTORS for d in model.objects.filter(user=user, confirmed=True)]
    return sorted(found, key=lambda device: device.created_at or device.pk)


def mfa_enrolled(*, user) -> bool:
    """Answer whether the person has a confirmed second factor."""
    return any(model.objects.filter(user=user, confirmed=True).exists() for model in SECOND_FACTORS)


def mfa_required_for(*, user) -> bool:
    """Answer whether the person must sign in with a second factor: with
    ``MARTECH_MFA_REQUIRED``, superusers and whoever may manage access."""
    return bool(settings.MARTECH_MFA_REQUIRED) and (
        user.is_superuser or user_can(user, "accounts.manage_access")
    )


def mfa_owed(*, user) -> bool:
    """Answer whether signing in as the person takes a second factor (they have one, or must)."""
    return mfa_enrolled(user=user) or mfa_required_for(user=user)


def mfa_recovery_codes_left(*, user) -> int:
    """Return how many unused recovery codes the person has."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
