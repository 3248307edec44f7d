"""Single sign-on with OpenID Connect: the provider, its discovery, and who a sign-in is.

mozilla-django-oidc runs the authorization code flow: the start view makes the state, the
nonce and the PKCE pair (S256) and keeps them in the session; ``SsoBackend`` exchanges the
code at the token endpoint and verifies the ID token's signature against the provider's
JWKS and its nonce. On top of it, here:

- the provider's endpoints come from its discovery document (``MARTECH_OIDC_ISSUER``), and
  every request to the provider goes through the egress policy (``martech.common.egress``);
  an issuer or endpoint must be https, or http on a loopback address;
- the ID token's issuer, audience (and ``azp``), expiry and issue time are checked as well;
- a person is matched by email, case-insensitively, only when the provider says the email is
  verified; a new person is created only when the provider is authoritative
  (``OIDC_CREATE_USER``), named from the claims, with the team the group mapping gives;
- a refusal (``SsoRefused``) carries a code and a sentence for the person; the callback view
  shows it and audits it. Tokens and claims are never logged.

The backend is listed in ``AUTHENTICATION_BACKENDS`` so that the session it starts is
recognised; it answers only the callback (a call with a ``nonce``), never a password.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from martech.common import egress
from martech.common.errors import ApplicationError

from .errors import AccountsErrorCode

BACKEND = "apps.accounts.sso.SsoBackend"
DISCOVERY_PATH = "/.well-known/openid-configuration"
_DISCOVERY_SECONDS = 60 * 60
_LEEWAY_SECONDS = 60


class SsoRefused(PermissionDenied):
    """A sign-in the console refuses, with a code and a sentence the person can act on."""

    def __init__(self, code: AccountsErrorCode, message: str, *, email: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.email = email


def enabled() -> bool:
    """Answer whether single sign-on is configured (issuer, client id and secret)."""
    return bool(
        settings.OIDC_ISSUER and settings.OIDC_RP_CLIENT_ID and settings.OIDC_RP_CLIENT_SECRET
    )


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME or "single sign-on"


def sso_required() -> bool:
    return bool(settings.SSO_REQUIRED)


def is_break_glass(email: str) -> bool:
    """Answer whether ``email`` may still sign in with a password while SSO is required."""
    wanted = (email or "").strip().lower()
    return bool(wanted) and wanted in {e.strip().lower() for e in settings.SSO_BREAK_GLASS}


def password_refusal() -> str:
    return (
        f"Password sign-in is turned off: sign in with {provider_name()}. Only the "
        "console's break-glass accounts may use a password."
    )


# -- the provider ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str


def _unreachable(detail: str) -> SsoRefused:
    return SsoRefused(
        AccountsErrorCode.SSO_PROVIDER_UNAVAILABLE,
        f"{provider_name()} could not be reached ({detail}). Try again, or ask your console "
        "administrator.",
    )


def _check_endpoint(url: str) -> str:
    """Refuse an endpoint that is not https (http only on a loopback address) or that the
    egress policy does not allow."""
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise _unreachable(f"{url or 'an empty address'} is not an https address")
    try:
        egress.check_url(url)
    except egress.EgressRefused as exc:
        raise _unreachable(exc.message) from None
    return url


def _get_json(url: str, *, headers: dict[str, str] | None = None) -> dict:
    try:
        status, body = egress.request(
            "GET", _check_endpoint(url), headers=headers, timeout=settings.OIDC_TIMEOUT
        )
    except (ApplicationError, ConnectionError) as exc:
        raise _unreachable(getattr(exc, "message", None) or type(exc).__name__) from None
    if status != 200:
        raise _unreachable(f"HTTP {status} from {urlsplit(url).netloc}")
    try:
        answer = json.loads(body)
    except ValueError:
        raise _unreachable(f"{urlsplit(url).netloc} did not answer JSON") from None
    if not isinstance(answer, dict):
        raise _unreachable(f"{urlsplit(url).netloc} did not answer a JSON object")
    return answer


def provider() -> Provider:
    """The provider's endpoints from its discovery document (kept for an hour)."""
    configured = settings.OIDC_ISSUER.strip().rstrip("/")
    url = configured if configured.endswith(DISCOVERY_PATH) else configured + DISCOVERY_PATH
    key = "accounts.sso.discovery." + hashlib.sha256(url.encode()).hexdigest()[:32]
    document = cache.get(key)
    if document is None:
        document = _get_json(url)
        issuer = str(document.get("issuer") or "")
        if not configured.endswith(DISCOVERY_PATH) and issuer.rstrip("/") != configured:
            # OpenID Connect Discovery 1.0, section 4.3: the document names the issuer asked.
            raise _unreachable(f"its discovery document names another issuer, {issuer}")
        for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str) or not document[name]:
                raise _unreachable(f"its discovery document has no {name}")
        cache.set(key, document, _DISCOVERY_SECONDS)
    return Provider(
        issuer=document["issuer"],
        authorization_endpoint=_check_endpoint(document["authorization_endpoint"]),
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=str(document.get("userinfo_endpoint") or ""),
    )


# -- claims -------------------------------------------------------------------------------------


def _verified(claims: dict) -> bool:
    value = claims.get(settings.OIDC_EMAIL_VERIFIED_CLAIM)
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def groups_of(claims: dict) -> list[str]:
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(group) for group in value]
    return []


def team_for(groups: list[str]) -> str:
    """The team of the first group of the mapping (in its order) the person is in, or ''."""
    held = set(groups)
    for group, team in settings.OIDC_GROUP_TEAMS.items():
        if group in held:
            return str(team)[:100]
    return ""


def name_of(claims: dict, email: str) -> str:
    name = str(claims.get("name") or "").strip()
    if not name:
        given = str(claims.get("given_name") or "").strip()
        family = str(claims.get("family_name") or "").strip()
        name = f"{given} {family}".strip()
    return (name or email.split("@", 1)[0])[:200]


def _issuers(issuer: str) -> list[str]:
    """The issuer an ID token may name: Google's tokens may also say it without the scheme."""
    if issuer == "https://accounts.google.com":
        return [issuer, "accounts.google.com"]
    return [issuer]


# -- the backend --------------------------------------------------------------------------------


class SsoBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, configured from discovery and reaching the provider
    through the egress policy; it grants no permissions (those come from capabilities)."""

    def __init__(self, *args, **kwargs):
        # The endpoints are read at sign-in from the discovery document, not at start-up:
        # Django builds every backend for each password sign-in too.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if request is None or "nonce" not in kwargs or not enabled():
            return None
        found = provider()
        self.issuer = found.issuer
        self.OIDC_OP_TOKEN_ENDPOINT = found.token_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = found.jwks_uri
        self.OIDC_OP_USER_ENDPOINT = found.userinfo_endpoint
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        try:
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, jwt.PyJWTError, KeyError, TypeError, ValueError):
            # Not logged: the text may quote the token. The person is told what failed.
            raise SsoRefused(
                AccountsErrorCode.SSO_INVALID_TOKEN,
                f"The answer from {provider_name()} could not be verified. Start the sign-in "
                "again.",
            ) from None

    # The provider's HTTP endpoints, through the egress policy.

    def get_token(self, payload):
        client_id = payload.pop("client_id")
        secret = payload.pop("client_secret")
        # RFC 6749, 2.3.1: the client id and secret are form-encoded before Basic encoding.
        credentials = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
        basic = base64.b64encode(credentials.encode()).decode()
        try:
            status, body = egress.request(
                "POST",
                _check_endpoint(self.OIDC_OP_TOKEN_ENDPOINT),
                data=payload,
                headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
                timeout=settings.OIDC_TIMEOUT,
            )
        except (ApplicationError, ConnectionError) as exc:
            raise _unreachable(getattr(exc, "message", None) or type(exc).__name__) from None
        if status != 200:
            raise SsoRefused(
                AccountsErrorCode.SSO_INVALID_TOKEN,
                f"{provider_name()} did not accept the sign-in (HTTP {status}). Start it again.",
            )
        answer = json.loads(body)
        if not isinstance(answer, dict) or not answer.get("id_token"):
            raise SuspiciousOperation("The token endpoint answered no ID token.")
        return answer

    def retrieve_matching_jwk(self, token):
        jwks = _get_json(self.OIDC_OP_JWKS_ENDPOINT)
        header = jwt.get_unverified_header(token)
        for key in jwks.get("keys") or []:
            if not isinstance(key, dict) or key.get("kid") != header.get("kid"):
                continue
            if "alg" in key and key["alg"] != header.get("alg"):
                continue
            return jwt.PyJWK(key)
        raise SuspiciousOperation("No key of the provider's JWKS signed the ID token.")

    def _verify_jws(self, payload, key):
        """Verify the signature, then the claims the library leaves out: issuer, audience,
        expiry and issue time."""
        algorithm = jwt.get_unverified_header(payload).get("alg")
        if algorithm != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation("The ID token is signed with another algorithm.")
        claims = jwt.decode(
            payload,
            key,
            algorithms=[algorithm],
            audience=self.OIDC_RP_CLIENT_ID,
            issuer=_issuers(self.issuer),
            leeway=_LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
        audience = claims["aud"]
        several = isinstance(audience, list) and len(audience) > 1
        if several and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("The ID token was issued to another client.")
        return claims

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed by the userinfo endpoint's when there is one."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT and access_token:
            info = _get_json(
                self.OIDC_OP_USER_ENDPOINT,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
            if info.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("The userinfo answer is about someone else.")
            claims.update(info)
        return claims

    def store_tokens(self, access_token, id_token):
        """Keep no provider token in the session."""

    # Who the sign-in is.

    def get_or_create_user(self, access_token, id_token, payload):
        from . import services

        claims = self.get_userinfo(access_token, id_token, payload)
        email = str(claims.get("email") or "").strip().lower()
        name = provider_name()
        if not email:
            raise SsoRefused(
                AccountsErrorCode.SSO_EMAIL_MISSING,
                f"{name} did not send your email address, so the console cannot tell who you "
                "are. Ask your console administrator to request the email scope.",
            )
        if not _verified(claims):
            raise SsoRefused(
                AccountsErrorCode.SSO_EMAIL_UNVERIFIED,
                f"{name} does not say that {email} is verified, so the console cannot sign "
                "you in with it.",
                email=email,
            )
        user = self.UserModel.objects.filter(email__iexact=email).first()
        if user is None:
            if not settings.OIDC_CREATE_USER:
                raise SsoRefused(
                    AccountsErrorCode.SSO_UNKNOWN_PERSON,
                    f"No console account uses {email}. Ask your console administrator to add you.",
                    email=email,
                )
            return services.user_create_from_sso(
                email=email,
                full_name=name_of(claims, email),
                team=team_for(groups_of(claims)),
                provider=name,
            )
        if not user.is_active:
            raise SsoRefused(
                AccountsErrorCode.INACTIVE_USER,
                f"The console account for {email} is deactivated. Ask your console "
                "administrator if you need it again.",
                email=email,
            )
        return user

    # Permissions come from capabilities only (CapabilityBackend), never from this backend.

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        return set()

    def has_perm(self, user_obj, perm, obj=None):
        return False

    def has_module_perms(self, user_obj, app_label):
        return False
