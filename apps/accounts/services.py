"""Writes for people and API tokens. Each one audits itself in the same transaction."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from apps.access.rules import access_recompute, require, require_may_change_person
from apps.access.services import (
    access_requests_cancel_for,
    birthright_reopen,
    check_date,
)
from apps.audit.services import audit_record, audit_snapshot
from martech.common.errors import ApplicationError, ConflictError, PermissionDeniedError

from . import selectors
from .errors import AccountsErrorCode
from .models import ApiToken, User

TOKEN_PREFIX = "mtc_"  # noqa: S105 (a public prefix, not a secret)
USER_AUDIT_FIELDS = (
    "email",
    "full_name",
    "team",
    "job_title",
    "manager",
    "start_date",
    "is_active",
    "is_superuser",
)


def hash_token(raw: str) -> str:
    """Return the stored digest of a raw API token."""
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def user_create(
    *,
    email: str,
    full_name: str,
    team: str = "",
    job_title: str = "",
    manager: User | None = None,
    start_date: dt.date | None = None,
    password: str | None = None,
    is_superuser: bool = False,
    actor: User | None = None,
    audit_metadata: dict | None = None,
) -> User:
    """Create a person; refuse an email address already in use (case-insensitively).

    With an ``actor`` (the UI and the API), the actor needs ``accounts.manage_access``;
    birthright rules give the new person their roles at once.
    """
    if actor is not None:
        require(actor, "accounts.manage_access", "add people")
    check_date(start_date, "start_date")
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ConflictError(
            f"A person with the email {email} already exists.",
            code=AccountsErrorCode.EMAIL_TAKEN,
            details={"email": email},
        )
    user = User.objects.create_user(
        email=email,
        password=password,
        full_name=full_name,
        team=team,
        job_title=job_title,
        manager=manager,
        start_date=start_date or timezone.localdate(),
        is_superuser=is_superuser,
    )
    audit_record(
        action="accounts.user.created",
        target=user,
        after=audit_snapshot(user, USER_AUDIT_FIELDS),
        metadata=audit_metadata,
    )
    access_recompute(user=user)
    return user


@transaction.atomic
def user_create_from_sso(*, email: str, full_name: str, team: str, provider: str) -> User:
    """Create a person at their first single sign-on, the provider being authoritative.

    Audited as ``accounts.user.created`` with the provider named; no password is set, and
    birthright rules give the new person their roles at once.
    """
    return user_create(
        email=email,
        full_name=full_name,
        team=team,
        audit_metadata={"method": "sso", "provider": provider},
    )


@transaction.atomic
def sso_sign_in_refused(*, provider: str, code: str, email: str = "") -> None:
    """Record a refused single sign-on with its reason (no token or claim but the email)."""
    person = User.objects.filter(email__iexact=email).first() if email else None
    audit_record(
        action="accounts.user.sso_refused",
        target=person,
        actor_label="anonymous",
        metadata={"provider": provider, "reason": code, "email": email},
    )


@transaction.atomic
def user_password_changed(*, user: User) -> None:
    """Record that ``user`` changed their password (the password itself is never logged)."""
    audit_record(action="accounts.user.password_changed", target=user, actor=user)


def _validate_days(days: int | None) -> int:
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ApplicationError(
            f"A token must expire in 1 to {settings.API_TOKEN_MAX_DAYS} days.",
            code=AccountsErrorCode.INVALID_TOKEN_LIFETIME,
            details={"days": days, "max_days": settings.API_TOKEN_MAX_DAYS},
        )
    return days


@transaction.atomic
def api_token_create(*, user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Create an API token for ``user``; return it with the raw token, which is shown once."""
    if not user.is_active:
        raise ApplicationError(
            "An inactive person cannot hold API tokens.", code=AccountsErrorCode.INACTIVE_USER
        )
    days = _validate_days(days)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100] or "API token",
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_token(raw),
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    audit_record(
        action="accounts.api_token.created",
        target=token,
        after={"name": token.name, "owner": user.email, "expires_at": token.expires_at},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token at once; revoking twice is refused."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise ApplicationError(
            "This token is already revoked.", code=AccountsErrorCode.TOKEN_REVOKED, status=409
        )
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        action="accounts.api_token.revoked",
        target=token,
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at},
        metadata={"owner": token.user.email},
    )
    return token


def api_token_touch(*, token: ApiToken, ip_address: str | None) -> None:
    """Record a token's use, at most once a minute so that reads do not become writes."""
    now = timezone.now()
    if token.last_used_at and now - token.last_used_at < dt.timedelta(minutes=1):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip_address)
    token.last_used_at, token.last_used_ip = now, ip_address


@transaction.atomic
def api_tokens_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete tokens that expired or were revoked more than the grace period ago.

    Each deletion is audited; the audit events keep the token's name and owner.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.API_TOKEN_PURGE_AFTER_DAYS)
    stale = list(
        ApiToken.objects.select_related("user")
        .select_for_update(of=("self",))
        .filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff))
    )
    for token in stale:
        audit_record(
            action="accounts.api_token.purged",
            target=token,
            metadata={"owner": token.user.email, "name": token.name, "status": token.status},
        )
    ApiToken.objects.filter(pk__in=[t.pk for t in stale]).delete()
    return len(stale)


@transaction.atomic
def user_set_active(*, user: User, active: bool, actor: User | None = None) -> User:
    """Activate or deactivate a person; a deactivated person's grants stop at once and their
    API tokens are revoked, so coming back does not revive them."""
    if actor is not None:
        require(actor, "accounts.manage_access", "activate or deactivate people")
        if actor.pk == user.pk and not active:
            raise ApplicationError(
                "You cannot deactivate yourself.", code=AccountsErrorCode.DEACTIVATE_SELF
            )
        require_may_change_person(actor, user, "active state")
    before = audit_snapshot(user, ("is_active",))
    user.is_active = active
    user.save(update_fields=["is_active", "updated_at"])
    audit_record(
        action="accounts.user.activated" if active else "accounts.user.deactivated",
        target=user,
        before=before,
        after=audit_snapshot(user, ("is_active",)),
    )
    if not active:
        access_requests_cancel_for(user=user)
    # Revoked, not merely unusable while inactive: coming back starts with new tokens. On
    # reactivation this also catches tokens left open by a deactivation from before.
    if not active or not before["is_active"]:
        _revoke_open_tokens(user, "owner reactivated" if active else "owner deactivated")
    if not active:
        _end_sessions(user)
    access_recompute(user=user, actor=actor)
    return user


def _end_sessions(user: User) -> None:
    """End a deactivated person's browser sessions, so coming back means signing in again.

    Sessions are stored signed and encoded, so each live one is decoded; deactivation is
    rare enough for that.
    """
    from django.contrib.sessions.models import Session

    key = str(user.pk)
    stale = [
        s.session_key
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if s.get_decoded().get("_auth_user_id") == key
    ]
    Session.objects.filter(session_key__in=stale).delete()


def _revoke_open_tokens(user: User, reason: str) -> None:
    now = timezone.now()
    for token in ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True):
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit_record(
            action="accounts.api_token.revoked",
            target=token,
            before={"revoked_at": None},
            after={"revoked_at": now},
            metadata={"owner": user.email, "reason": reason},
        )


PERSON_FIELDS = ("full_name", "team", "job_title", "manager", "start_date")
SELF_LOCKED_FIELDS = ("team", "job_title", "manager", "start_date")


@transaction.atomic
def user_update(*, actor: User | None, user: User, **changes) -> User:
    """Change a person's attributes; tenure and birthright rules follow at once. Without an
    ``actor``, the change is the identity provider's (provisioning), whose token was checked
    at its door; only it changes a person's ``email``."""
    if actor is not None:
        require(actor, "accounts.manage_access", "edit people")
    recorded = (*PERSON_FIELDS, "email") if "email" in changes else PERSON_FIELDS
    before = audit_snapshot(user, recorded)
    for key in changes:
        if key not in PERSON_FIELDS and not (key == "email" and actor is None):
            raise ValueError(key)
    changed = [k for k, v in changes.items() if getattr(user, k) != v]
    if actor is not None and user.is_superuser and changed and actor.pk != user.pk:
        require_may_change_person(actor, user, "record")
    # Tenure, team and title decide access, and the manager decides requests: not one's own.
    if actor is not None and any(k in SELF_LOCKED_FIELDS for k in changed):
        require_may_change_person(actor, user, ", ".join(k for k in changed if k != "full_name"))
    if "email" in changed:
        changes["email"] = changes["email"].strip().lower()
        if User.objects.filter(email__iexact=changes["email"]).exclude(pk=user.pk).exists():
            raise ConflictError(
                f"A person with the email {changes['email']} already exists.",
                code=AccountsErrorCode.EMAIL_TAKEN,
                details={"email": changes["email"]},
            )
    for key, value in changes.items():
        setattr(user, key, value)
    check_date(user.start_date, "start_date")
    boss, seen = user.manager, set()
    while boss is not None and boss.pk not in seen:
        if boss.pk == user.pk:
            raise ApplicationError(
                "A person cannot manage themselves, directly or through others.",
                code=AccountsErrorCode.MANAGER_CYCLE,
            )
        seen.add(boss.pk)
        boss = boss.manager
    user.save()
    if (before["team"], before["job_title"]) != (user.team, user.job_title):
        # A new team or title is a new start: birthright roles removed by hand may apply again.
        birthright_reopen(user=user)
    audit_record(
        action="accounts.user.updated",
        target=user,
        before=before,
        after=audit_snapshot(user, recorded),
    )
    access_recompute(user=user)
    return user


# --- Multi-factor authentication ---------------------------------------------------------------

RECOVERY_CODE_COUNT = 10
# 16 base32 characters: 80 random bits, so the stored digest (as long as the code) cannot be
# searched for the code it came from.
_RECOVERY_CODE_BYTES = 10
_TOTP_CODE = re.compile(r"\d{6}")
AUTHENTICATOR_APP = "Authenticator app"


def _normalised_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def recovery_code_digest(code: str) -> str:
    """Return what is stored of a recovery code: its SHA-256 digest in base32, cut to the
    16 characters django-otp's static token holds."""
    digest = hashlib.sha256(_normalised_code(code).encode()).digest()
    return base64.b32encode(digest).decode().lower()[:16]


def _recovery_code_new() -> str:
    raw = base64.b32encode(secrets.token_bytes(_RECOVERY_CODE_BYTES)).decode().lower()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def mfa_totp_key_new() -> str:
    """Return a new authenticator-app secret (hex, 20 random bytes, as django-otp keeps it)."""
    return random_hex(20)


def mfa_totp_secret(key: str) -> str:
    """Return the secret an authenticator app is given by hand (base32, no padding)."""
    return base64.b32encode(bytes.fromhex(key)).decode().rstrip("=")


def _user_locked(user: User) -> User:
    # One enrolment, regeneration or removal at a time per person.
    return User.objects.select_for_update().get(pk=user.pk)


def _recovery_codes_replace(user: User) -> list[str]:
    """Replace the person's recovery codes with new ones; return them (shown once)."""
    # The device stays (a session confirmed by one of its codes stays confirmed); its codes go.
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.token_set.all().delete()
    codes = [_recovery_code_new() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=recovery_code_digest(code)) for code in codes
    )
    return codes


def _invalid_code() -> ApplicationError:
    return ApplicationError(
        "That code is not right. Enter the 6-digit code your authenticator app shows now, "
        "or one of your recovery codes.",
        code=AccountsErrorCode.INVALID_MFA_CODE,
    )


@transaction.atomic
def mfa_totp_enrol(*, user: User, key: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm an authenticator app by a code it made from ``key``; return the device and
    a new set of recovery codes (shown once; only their digests are kept).

    The code confirmed here cannot be used again to sign in. Audited.
    """
    user = _user_locked(user)
    if selectors.mfa_enrolled(user=user):
        raise ConflictError(
            "Two-step sign-in is already set up; remove it first to use another app.",
            code=AccountsErrorCode.MFA_ALREADY_ENROLLED,
        )
    code = _normalised_code(code)
    totp = TOTP(bytes.fromhex(key))
    totp.time = time.time()
    if not _TOTP_CODE.fullmatch(code) or not totp.verify(int(code), tolerance=1):
        raise ApplicationError(
            "That code does not match. Enter the 6-digit code the app shows now.",
            code=AccountsErrorCode.INVALID_MFA_CODE,
        )
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(
        user=user, name=AUTHENTICATOR_APP, key=key, confirmed=True, last_t=totp.t()
    )
    codes = _recovery_codes_replace(user)
    audit_record(
        action="accounts.mfa.enrolled",
        target=user,
        actor=user,
        after={"device": AUTHENTICATOR_APP, "recovery_codes": len(codes)},
    )
    return device, codes


@transaction.atomic
def mfa_verify(*, user: User, code: str) -> Device | None:
    """Return the device that accepts ``code`` (a code from a second factor, or a recovery
    code, which is spent), or None.

    A code is accepted once: a TOTP code not again, a recovery code never again (its row
    is deleted in this transaction). Throttling is the caller's (django-axes, with the
    passwords); spending a recovery code is audited.
    """
    code = _normalised_code(code)
    if not code or len(code) > 64:
        return None
    if _TOTP_CODE.fullmatch(code):
        for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(code):
                return device
        return None
    for device in StaticDevice.objects.select_for_update().filter(user=user, confirmed=True):
        if device.verify_token(recovery_code_digest(code)):
            audit_record(
                action="accounts.mfa.recovery_code_used",
                target=user,
                actor=user,
                metadata={"recovery_codes_left": device.token_set.count()},
            )
            return device
    return None


def _verified(user: User, code: str) -> Device:
    if not selectors.mfa_enrolled(user=user):
        raise ConflictError(
            "Two-step sign-in is not set up.", code=AccountsErrorCode.MFA_NOT_ENROLLED
        )
    device = mfa_verify(user=user, code=code)
    if device is None:
        raise _invalid_code()
    return device


@transaction.atomic
def mfa_recovery_codes_regenerate(*, user: User, code: str) -> list[str]:
    """Replace the person's recovery codes, confirmed by a current code; return the new ones
    (shown once). The old ones stop working at once. Audited."""
    user = _user_locked(user)
    _verified(user, code)
    codes = _recovery_codes_replace(user)
    audit_record(
        action="accounts.mfa.recovery_codes_regenerated",
        target=user,
        actor=user,
        after={"recovery_codes": len(codes)},
    )
    return codes


@transaction.atomic
def mfa_remove(*, user: User, code: str) -> None:
    """Remove the person's second factors and recovery codes, confirmed by a current code.

    Refused to someone who must sign in with a second factor (``mfa_required_for``). Audited.
    """
    user = _user_locked(user)
    if selectors.mfa_required_for(user=user):
        raise PermissionDeniedError(
            "Superusers and access administrators must sign in with a second factor, "
            "so yours cannot be removed.",
            code=AccountsErrorCode.MFA_REQUIRED,
        )
    device = _verified(user, code)
    audit_record(
        action="accounts.mfa.removed",
        target=user,
        actor=user,
        before={"devices": _devices_delete(user)},
        metadata={"confirmed_with": mfa_device_kind(device)},
    )


def _devices_delete(user: User) -> list[str]:
    """Delete the person's second factors and recovery codes; return the factors' names."""
    removed = [d.name for d in selectors.mfa_devices(user=user)]
    for model in (*selectors.SECOND_FACTORS, StaticDevice):
        model.objects.filter(user=user).delete()
    return removed


@transaction.atomic
def mfa_reset(*, user: User) -> list[str]:
    """Remove the second factors and recovery codes of someone who lost them all (an
    operator's command, not a page: no code can confirm it). Whoever must have a second
    factor sets one up at their next sign-in. Audited; returns the names removed."""
    user = _user_locked(user)
    removed = _devices_delete(user)
    audit_record(action="accounts.mfa.reset", target=user, before={"devices": removed})
    return removed


def mfa_device_kind(device: Device) -> str:
    """Name the kind of a device for the audit log: ``authenticator_app`` or ``recovery_code``."""
    return "recovery_code" if isinstance(device, StaticDevice) else "authenticator_app"
