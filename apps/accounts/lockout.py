"""What a locked-out sign-in attempt gets: the error shape on the API, a page in the browser."""

from django.conf import settings
from django.shortcuts import render

from martech.common.api import error_response


def attempted_username(request, credentials) -> str | None:
    """The account a sign-in attempt names, the way sign-in matches it (case-insensitive)."""
    value = (credentials or {}).get("username") or request.POST.get("username")
    return value.strip().lower() if isinstance(value, str) else None


def lockout_response(request, original_response=None, credentials=None):
    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    message = (
        f"Too many failed sign-in attempts. Try again in {minutes} minutes, "
        "or ask an administrator to unlock the account."
    )
    if request.path.startswith("/api/"):
        return error_response(429, "locked_out", message, {"retry_after_seconds": minutes * 60})
    return render(
        request, "accounts/locked_out.html", {"message": message, "minutes": minutes}, status=429
    )
