"""Sign-in throttling: who is locked out, for how long, and what they are told.

django-axes counts failed sign-ins (the login page and the token endpoint alike) by the
account-and-address pair (``AXES_LOCKOUT_PARAMETERS``). On top of it:

- the lock grows: the pair is locked for ``LOGIN_COOLOFF_HOURS`` at ``AXES_FAILURE_LIMIT``
  failures, and every further failure doubles it, up to ``LOGIN_COOLOFF_MAX_HOURS``
  (``cool_off``, axes' ``AXES_COOLOFF_TIME``). A pair's failures are remembered for
  ``LOGIN_FAILURE_MEMORY_HOURS`` after its last one, or until the right password from that
  address clears them;
- an address on its own is locked only at ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures within
  ``LOGIN_COOLOFF_HOURS``, across every account (``LockoutHandler.get_failures``).

So someone guessing from one address locks only themselves out of that account: the
account's owner, from their own address, still signs in; and nobody can lock an account
(the superuser's included) for everyone.
"""

from __future__ import annotations

import datetime as dt

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone

from martech.common.api import error_response

_USERNAME_ATTR = "martech_login_username"


def attempted_username(request, credentials) -> str | None:
    """The account a sign-in attempt names, the way sign-in matches it (case-insensitive)."""
    value = (credentials or {}).get("username") or request.POST.get("username")
    return value.strip().lower() if isinstance(value, str) else None


def _base() -> dt.timedelta:
    return dt.timedelta(hours=settings.LOGIN_COOLOFF_HOURS)


def delay_after(failures: int) -> dt.timedelta:
    """How long a pair with ``failures`` recent failures stays locked after its last one."""
    base, limit = _base(), settings.AXES_FAILURE_LIMIT
    ceiling = dt.timedelta(hours=settings.LOGIN_COOLOFF_MAX_HOURS)
    if failures <= limit:
        return min(base, ceiling)
    # Capped exponent: the ceiling is reached long before 2**20.
    return min(base * 2 ** min(failures - limit, 20), ceiling)


def _pair_failures(username: str | None, ip_address: str | None) -> int:
    rows = AccessAttempt.objects.filter(username=username, ip_address=ip_address)
    return rows.aggregate(total=Sum("failures_since_start"))["total"] or 0


def cool_off(request=None) -> dt.timedelta:
    """``AXES_COOLOFF_TIME``: the lock of the request's account-and-address pair, grown with
    its failures."""
    if request is None or not hasattr(request, _USERNAME_ATTR):
        return _base()
    ip_address = getattr(request, "axes_ip_address", None)
    return delay_after(_pair_failures(getattr(request, _USERNAME_ATTR), ip_address))


def address_failures(ip_address: str | None, *, now: dt.datetime | None = None) -> int:
    """Failures from ``ip_address`` across every account, on pairs that failed recently."""
    if not ip_address:
        return 0
    since = (now or timezone.now()) - _base()
    rows = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since)
    return rows.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with growing pair locks and a separate address threshold."""

    @staticmethod
    def _remember(request, credentials) -> None:
        # The cool-off callable receives only the request; the account it is about may be
        # in the credentials (the token endpoint's JSON body), so it is noted here.
        if request is not None:
            setattr(request, _USERNAME_ATTR, get_client_username(request, credentials))

    def get_user_attempts(self, request, credentials=None):
        self._remember(request, credentials)
        return super().get_user_attempts(request, credentials)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        self._remember(request, credentials)
        return super().user_login_failed(sender, credentials, request, **kwargs)

    def get_failures(self, request, credentials=None) -> int:
        """The pair's failures; an address over its own, higher limit counts as locked."""
        failures = super().get_failures(request, credentials)
        if address_failures(request.axes_ip_address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures

    def clean_expired_user_attempts(self, request=None, credentials=None) -> int:
        """Forget failures ``LOGIN_FAILURE_MEMORY_HOURS`` after a pair's last one.

        axes would forget them after one cool-off (and, with a cool-off that differs per
        pair, after the shortest one), which would reset the growing delay each time.
        """
        memory = dt.timedelta(hours=settings.LOGIN_FAILURE_MEMORY_HOURS)
        count, _ = AccessAttempt.objects.filter(attempt_time__lte=timezone.now() - memory).delete()
        return count


def lockout_clear_pair(request, username: str) -> None:
    """Clear the failures of ``username`` from this address after the right password, as
    a sign-in on the page does (``AXES_RESET_ON_SUCCESS``); the token endpoint calls it."""
    if settings.AXES_RESET_ON_SUCCESS:
        LockoutHandler().reset_user_attempts(request, {"username": username})


def _retry_after(request) -> dt.timedelta:
    """How long until the request's pair (or address) may try again."""
    now = timezone.now()
    ip_address = getattr(request, "axes_ip_address", None)
    username = getattr(request, _USERNAME_ATTR, None)
    last = (
        AccessAttempt.objects.filter(username=username, ip_address=ip_address)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    waits = []
    if last is not None:
        waits.append(last + delay_after(_pair_failures(username, ip_address)) - now)
    if address_failures(ip_address, now=now) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        newest = (
            AccessAttempt.objects.filter(ip_address=ip_address)
            .order_by("-attempt_time")
            .values_list("attempt_time", flat=True)
            .first()
        )
        waits.append(newest + _base() - now)
    return max([w for w in waits if w > dt.timedelta(0)], default=_base())


def lockout_response(request, original_response=None, credentials=None):
    if credentials is not None and not hasattr(request, _USERNAME_ATTR):
        LockoutHandler._remember(request, credentials)
    seconds = max(int(_retry_after(request).total_seconds()), 1)
    minutes = max((seconds + 59) // 60, 1)
    message = (
        f"Too many failed sign-in attempts. Try again in {minutes} minute"
        f"{'s' if minutes != 1 else ''}, or ask an administrator to unlock the account."
    )
    if request.path.startswith("/api/"):
        response = error_response(429, "locked_out", message, {"retry_after_seconds": seconds})
    else:
        response = render(
            request,
            "accounts/locked_out.html",
            {"message": message, "minutes": minutes},
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response
