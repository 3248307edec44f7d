"""Hold a signed-in session that owes its second factor at the pages that take it."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from martech.common.api import error_response

from . import selectors, signin
from .errors import AccountsErrorCode

# A session found to owe nothing is asked again after this long, so a second factor set up
# in another session, or a role that needs one, reaches it soon without a query per request.
RECHECK_SECONDS = 60
_CLEARED = "accounts.mfa_cleared"
_OPEN = ("accounts:login_code", "accounts:mfa_setup", "accounts:logout")


class MfaMiddleware:
    """A session signed in without the second factor its person has (set up in another
    session) or must have (a superuser or access administrator with ``MARTECH_MFA_REQUIRED``)
    reaches only the code page, the set-up page and sign-out: pages redirect there, the API
    answers 401 ``second_factor_required``. Bearer tokens are a credential of their own and
    pass, and so does a session another way of signing in started (the second factor is the
    password's); sign-in itself never makes such a session (see ``apps.accounts.signin``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        if authenticated and not self._exempt(request) and self._owes(request, user):
            return self._hold(request, user)
        return self.get_response(request)

    @staticmethod
    def _exempt(request) -> bool:
        if request.path_info.startswith("/api/"):
            header = request.META.get("HTTP_AUTHORIZATION", "")
            return header.partition(" ")[0].lower() == "bearer"
        return request.path_info in {reverse(name) for name in _OPEN}

    @staticmethod
    def _owes(request, user) -> bool:
        if user.is_verified() or not signin.by_password(request):
            return False
        cleared = request.session.get(_CLEARED)
        if (
            isinstance(cleared, dict)
            and cleared.get("user") == user.pk
            and time.time() - float(cleared.get("at", 0)) < RECHECK_SECONDS
        ):
            return False
        if selectors.mfa_owed(user=user):
            return True
        request.session[_CLEARED] = {"user": user.pk, "at": time.time()}
        return False

    @staticmethod
    def _hold(request, user):
        if request.path_info.startswith("/api/"):
            return error_response(
                401,
                AccountsErrorCode.SECOND_FACTOR_REQUIRED,
                "This session has not been confirmed with a second factor: finish signing in "
                "on the console's sign-in page, or use an API token.",
            )
        page = "accounts:login_code" if selectors.mfa_enrolled(user=user) else "accounts:mfa_setup"
        return redirect(f"{reverse(page)}?{urlencode({'next': request.get_full_path()})}")
