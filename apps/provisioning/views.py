"""``/scim/v2/``: the SCIM 2.0 service (RFC 7644) the company's identity provider provisions
people through. The protocol is ``scim2_server``'s; this view reads the request, checks the
bearer token at the door (a console API token whose owner holds
``provisioning.provision_people``), and hands the request to the service in one transaction."""

from __future__ import annotations

import logging

import orjson
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from scim2_models import (
    ForbiddenException,
    PayloadTooLargeException,
    SCIMException,
    UnauthorizedException,
)
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService

from apps.access.rules import user_can
from apps.accounts.models import ApiToken
from apps.accounts.services import api_token_touch, hash_token
from martech.common import context
from martech.common.middleware import client_ip

from .provider import provider
from .storage import ConsoleStorage

log = logging.getLogger(__name__)

CAPABILITY = "provisioning.provision_people"
MAX_BODY = 1024 * 1024  # a SCIM request's body, at most


class _Failed(SCIMException):
    """A request the service could not serve through no fault of the client's."""

    status = 500
    _default_detail = "The request failed."


def _service() -> ScimService:
    return ScimService(provider())


def _owner(request: HttpRequest):
    """The person whose API token the request carries, allowed to provision."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw or " " in raw:
        raise UnauthorizedException(detail="A console API token is needed: Bearer <token>.")
    token = ApiToken.objects.select_related("user").filter(token_hash=hash_token(raw)).first()
    if (
        token is None
        or token.revoked_at is not None
        or token.expires_at <= timezone.now()
        or not token.user.is_active
    ):
        raise UnauthorizedException(detail="The API token is unknown, revoked or expired.")
    if not user_can(token.user, CAPABILITY):
        raise ForbiddenException(detail=f"The token's owner does not hold {CAPABILITY}.")
    api_token_touch(token=token, ip_address=client_ip(request))
    return token.user


def _response(answer: ScimResponse, bearer: bool = False) -> HttpResponse:
    body = b"" if answer.body is None else orjson.dumps(answer.body)
    response = HttpResponse(body, status=int(answer.status))
    for name, value in answer.headers.items():
        response[name] = value
    response.setdefault("Cache-Control", "no-cache")
    if bearer:
        response["WWW-Authenticate"] = 'Bearer realm="scim"'
    return response


@csrf_exempt
def scim(request: HttpRequest, path: str = "") -> HttpResponse:
    service = _service()
    scim_request = ScimRequest(
        method=request.method or "GET",
        base_url=request.build_absolute_uri("/scim/v2"),
        path="/" + path.removesuffix(".scim"),
        query=dict(request.GET.items()),
        headers=dict(request.headers),
        body=b"",
    )
    try:
        if len(request.body) > MAX_BODY:
            return _response(
                service.error_response(
                    PayloadTooLargeException(detail="The request body is over 1 MB.")
                )
            )
        scim_request.body = request.body
        if scim_request.path.rstrip("/") != "/ServiceProviderConfig":
            scim_request.subject = _owner(request)
            context.set_user(scim_request.subject)
        with transaction.atomic():
            answer = ScimHandler(service, ConsoleStorage(provider())).handle(scim_request)
    except UnauthorizedException as exc:
        return _response(service.error_response(exc), bearer=True)
    except SCIMException as exc:
        return _response(service.error_response(exc))
    except Exception:  # a bug: logged with its traceback, answered without one
        log.exception("SCIM %s %s failed", request.method, scim_request.path)
        return _response(service.error_response(_Failed()))
    answer.headers.setdefault("Location", scim_request.url)
    return _response(answer)
