"""Audit sign-ins and sign-outs; Django's auth signals are the only hook for them."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.audit.services import audit_record
from martech.common.logging import redact

from .services import mfa_device_kind
from .sso import BACKEND as SSO_BACKEND
from .sso import provider_name


@receiver(user_logged_in, dispatch_uid="accounts_audit_logged_in")
def _logged_in(sender, request, user, **kwargs):
    # A single sign-on names its provider; a password sign-in names its second factor, if any.
    via_sso = getattr(user, "backend", "") == SSO_BACKEND
    device = getattr(user, "otp_device", None)
    metadata = None
    if via_sso:
        metadata = {"method": "sso", "provider": provider_name()}
    elif device is not None:
        metadata = {"second_factor": mfa_device_kind(device)}
    audit_record(action="accounts.user.logged_in", target=user, actor=user, metadata=metadata)


@receiver(user_logged_out, dispatch_uid="accounts_audit_logged_out")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action="accounts.user.logged_out", target=user, actor=user)


@receiver(user_login_failed, dispatch_uid="accounts_audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # Django already masks the password in ``credentials``; keep only the name tried.
    attempted = redact(str(credentials.get("username", "")))[:255]
    metadata = {"username": attempted}
    if credentials.get("second_factor"):
        metadata["second_factor"] = True  # the password was right, the code was not
    audit_record(
        action="accounts.user.login_failed",
        actor_label="anonymous",
        metadata=metadata,
    )
