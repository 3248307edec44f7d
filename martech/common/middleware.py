"""Request-scoped context: the request id, the client address and the acting user."""

import re

from django.conf import settings

from . import context

# A client's X-Request-ID is kept for correlation: letters, digits and . _ : - only, at most
# CLIENT_REQUEST_ID_MAX characters; anything else is dropped.
CLIENT_REQUEST_ID_MAX = 64
_CLIENT_REQUEST_ID_JUNK = re.compile(r"[^A-Za-z0-9._:-]")


def client_request_id(value: str) -> str:
    """Return the client's request id with anything but letters, digits, ``. _ : -`` removed,
    cut to ``CLIENT_REQUEST_ID_MAX`` characters."""
    if not value:
        return ""
    return _CLIENT_REQUEST_ID_JUNK.sub("", value[: CLIENT_REQUEST_ID_MAX * 4])[
        :CLIENT_REQUEST_ID_MAX
    ]


class ProbeMiddleware:
    """Answer /healthz and /readyz before anything else.

    Load balancers and container healthchecks call them by address, with a Host header
    ``ALLOWED_HOSTS`` does not list, and over plain HTTP.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from . import health

        if request.path_info == "/healthz":
            return health.healthz(request)
        if request.path_info == "/readyz":
            return health.readyz(request)
        return self.get_response(request)


def client_ip(request) -> str | None:
    """Return the client address, trusting ``DJANGO_PROXY_COUNT`` proxies in front."""
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0)
    if proxies:
        forwarded = [
            p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Give every request a fresh server-made id; a client's ``X-Request-ID`` is kept apart.

    The id ties a request's audit records and log lines together, so a client must not be
    able to choose it (and file its changes under another request). The response carries
    the server's id in ``X-Request-ID``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = context.new_request_id()
        client_id = client_request_id(request.META.get("HTTP_X_REQUEST_ID", ""))
        request.request_id = request_id
        request.client_request_id = client_id
        with context.acting(
            request_id=request_id,
            client_request_id=client_id,
            ip_address=client_ip(request),
            user=None,
        ):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class RequestActorMiddleware:
    """Record the session user as the actor; API token users are recorded by DRF auth."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            context.set_user(user)
        return self.get_response(request)


class ApplicationErrorMiddleware:
    """Show a service's refusal as a page (404, 403, or its own status and message), and a page's
    bare 405 (a GET on a form's POST-only address) as the friendly 405 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            from .views import method_not_allowed

            return method_not_allowed(request, response)
        return response

    def process_exception(self, request, exception):
        from .errors import ApplicationError
        from .views import application_error

        if not isinstance(exception, ApplicationError):
            return None
        return application_error(request, exception)
