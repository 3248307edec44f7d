"""Signing in with a second factor: the state between the password and the code.

A right password for someone who owes a second factor (``selectors.mfa_owed``) does not sign
them in: the session only remembers, for ``PENDING_MINUTES``, who gave it and where they were
going. Django's ``login()`` runs once the code is right (or, for someone who must have a
second factor and has none, once their new authenticator app is confirmed), so until then
the session is anonymous to every page and to the API.

A code is checked like a password: a locked account-and-address pair is refused before the
code is looked at, and a wrong code is a failed sign-in to django-axes (``user_login_failed``),
so passwords and codes share one count and one growing lock. axes clears that count when
``login()`` runs, that is after the code, never after the password alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.models import Device

from . import selectors, services
from .models import User

PENDING_MINUTES = 10
_PENDING = "accounts.signin_pending"
_SETUP_KEY = "accounts.mfa_setup_key"


@dataclass(frozen=True)
class Pending:
    user: User
    backend: str
    next_url: str


def pending_start(request, *, user: User, next_url: str) -> None:
    """Remember that ``user`` gave the right password; their sign-in waits for the code."""
    request.session[_PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "at": time.time(),
    }


def pending_get(request) -> Pending | None:
    """Return the sign-in waiting for its code in this session, if it has not expired."""
    state = request.session.get(_PENDING)
    if not isinstance(state, dict):
        return None
    if time.time() - float(state.get("at", 0)) > PENDING_MINUTES * 60:
        request.session.pop(_PENDING, None)
        return None
    user = User.objects.filter(pk=state.get("user"), is_active=True).first()
    if user is None:
        return None
    return Pending(user=user, backend=state["backend"], next_url=state.get("next") or "/")


def safe_next(request, url: str | None, default: str = "/") -> str:
    """Return ``url`` if it stays on this console, else ``default``."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


def complete(request, *, device: Device, pending: Pending | None) -> None:
    """Sign the session in (if it waited for its code) and mark it confirmed by ``device``."""
    if pending is not None:
        user = pending.user
        user.otp_device = device  # the sign-in's audit record names the second factor
        auth_login(request, user, backend=pending.backend)
        request.session.pop(_PENDING, None)
    otp_login(request, device)


def _credentials(user: User) -> dict:
    return {"username": user.email}


def code_locked(request, *, user: User) -> bool:
    """Answer whether the account-and-address pair is locked (wrong passwords or codes)."""
    return not AxesProxyHandler.is_allowed(request, _credentials(user))


def code_check(request, *, user: User, code: str) -> Device | None:
    """Return the device that accepts ``code``; a wrong code counts as a failed sign-in.

    The caller has checked ``code_locked`` first. When this failure reaches the limit, axes
    marks the request locked out and its middleware answers with the lockout instead.
    """
    device = services.mfa_verify(user=user, code=code)
    if device is None:
        code_refused(request, user=user)
    return device


def code_refused(request, *, user: User) -> None:
    """Count a wrong code as a failed sign-in of ``user`` (audited, and counted by axes)."""
    user_login_failed.send(
        sender=__name__,
        credentials={**_credentials(user), "second_factor": True},
        request=request,
    )


def setup_key(request, *, user: User) -> str:
    """Return the authenticator-app secret being set up in this session for ``user``
    (made on first use; kept until the app is confirmed or the session ends)."""
    state = request.session.get(_SETUP_KEY)
    if not isinstance(state, dict) or state.get("user") != user.pk:
        state = {"user": user.pk, "key": services.mfa_totp_key_new()}
        request.session[_SETUP_KEY] = state
    return state["key"]


def setup_done(request) -> None:
    request.session.pop(_SETUP_KEY, None)


# The backend that checks passwords; a session it signed in is the one a second factor guards.
PASSWORD_BACKEND = "apps.accounts.backends.CapabilityBackend"  # noqa: S105 - a module path


def by_password(request) -> bool:
    """Answer whether the request's session was signed in with a password."""
    return request.session.get(BACKEND_SESSION_KEY) == PASSWORD_BACKEND


def owes_code(request) -> bool:
    """Answer whether the request's signed-in session still owes its second factor."""
    user = request.user
    return (
        user.is_authenticated
        and by_password(request)
        and not user.is_verified()
        and selectors.mfa_owed(user=user)
    )
