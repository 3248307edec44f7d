"""The collection API answers before the middleware of the console's own pages.

Its callers are tracking SDKs, browsers on the company's sites and pixels, authenticated by a
write key. Sessions, CSRF, the signed-in user, flash messages, htmx and login throttling
belong to the console's pages and do nothing for them, yet ran on every request: about a
fifth of the CPU a one-message request costs under gunicorn, a fixed share of every batch.
What they add to an answer is added here the same way: the host check, ``Content-Length``,
``X-Frame-Options`` and the content security policy. The middleware before this one (probes,
HTTPS and security headers, static files, the request id) applies to the collection API as to
everything else.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.urls import NoReverseMatch, reverse


class CollectionMiddleware:
    def __init__(self, get_response):
        from csp.constants import HEADER, HEADER_REPORT_ONLY
        from csp.utils import build_policy

        from .collect_urls import app_name, urlpatterns

        self.get_response = get_response
        common = {}
        if settings.X_FRAME_OPTIONS:
            common["X-Frame-Options"] = settings.X_FRAME_OPTIONS.upper()
        # The policies CSPMiddleware writes on a response that asks for none of its own and
        # uses no nonce, as none of these does.
        policies = []
        for header, name, report_only in (
            (HEADER, "CONTENT_SECURITY_POLICY", False),
            (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
        ):
            config = getattr(settings, name, None) or {}
            excluded = tuple(config.get("EXCLUDE_URL_PREFIXES") or ())
            policy = build_policy(report_only=report_only)
            if policy:
                policies.append((header, policy, excluded))
        # Path → (view, its keyword arguments, the headers its answers get), for exactly the
        # collection API's addresses.
        self.routes = {}
        for pattern in urlpatterns:
            try:
                path = reverse(f"{app_name}:{pattern.name}")
            except NoReverseMatch:  # not served by this URLconf: nothing to answer early
                continue
            headers = dict(common)
            for header, policy, excluded in policies:
                if not (excluded and path.startswith(excluded)):
                    headers[header] = policy
            self.routes[path] = (pattern.callback, pattern.default_args, headers)
        if not self.routes:
            raise MiddlewareNotUsed

    def __call__(self, request):
        route = self.routes.get(request.path_info)
        if route is None:
            return self.get_response(request)
        request.get_host()  # refuses a host ALLOWED_HOSTS does not list, as for every page
        view, kwargs, headers = route
        response = view(request, **kwargs)
        for header, value in headers.items():
            if header not in response:
                response[header] = value
        if not response.streaming and "Content-Length" not in response:
            response["Content-Length"] = str(len(response.content))  # so the connection stays
        return response
