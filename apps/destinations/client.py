"""The one HTTP client for every request to a vendor: deliveries, sync sends, erasure calls
and their polls. A shared connection pool, bounded timeouts, the egress policy, and an answer
for every failure (never an exception into the engine).

The egress policy (``martech.common.egress``) is applied twice: to the URL before anything
is sent (scheme, user-info, a refused or numeric host), and when the connection is opened,
to the addresses the host resolves to, connecting to exactly those (no DNS rebinding between
the check and the connection). Redirects are never followed, and no proxy is taken from
the environment. A refused request leaves nothing on the network and answers
``refused=True``: callers record it as a permanent failure with the policy's message.
"""

from __future__ import annotations

import os
import threading
import types
from dataclasses import dataclass

import httpx
from django.conf import settings

from martech.common import egress

from .adapters.base import Outbound

# The process's one client (httpx clients are thread-safe): every thread sending for the
# outbound port shares its connection pool and keeps its connections alive. A forked worker
# makes its own (``pid``): a connection is never shared with the parent.
_local = types.SimpleNamespace()
_lock = threading.Lock()
NOT_ENCODABLE = "Not sent: a header (a credential?) holds characters HTTP headers cannot carry."


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (timeout, refused, reset, or not sent)
    headers: httpx.Headers
    body: bytes
    error: str = ""
    # Not sent, and sending again will not help: the egress policy refused the target, or
    # the request cannot be put on the wire. Callers record it as a permanent failure.
    refused: bool = False


def _client() -> httpx.Client:
    client = getattr(_local, "client", None)
    if client is not None and _local.pid == os.getpid():
        return client
    with _lock:
        if getattr(_local, "client", None) is None or _local.pid != os.getpid():
            timeout = settings.DELIVERY_TIMEOUT_SECONDS
            _local.client = httpx.Client(
                timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
                transport=egress.http_transport(
                    limits=httpx.Limits(max_connections=32, max_keepalive_connections=32)
                ),
                follow_redirects=False,
                trust_env=False,
            )
            _local.pid = os.getpid()
        return _local.client


def send(request: Outbound) -> Answer:
    """Send ``request`` if the egress policy allows its target; never raises."""
    try:
        # What the URL says by itself; the connection checks the resolved addresses.
        egress.check_url(request.url, resolve_name=False)
        response = _client().request(
            request.method, request.url, headers=request.headers, content=request.body
        )
    except egress.EgressUnresolved as exc:  # DNS may be down: temporary
        return Answer(None, httpx.Headers(), b"", exc.message)
    except egress.EgressRefused as exc:
        return Answer(None, httpx.Headers(), b"", f"Not sent: {exc.message}", refused=True)
    except httpx.InvalidURL:
        return Answer(None, httpx.Headers(), b"", "Not sent: the URL is not valid.", refused=True)
    except UnicodeError:  # a header value HTTP cannot carry; the value itself is not named
        # (it may be a credential)
        return Answer(None, httpx.Headers(), b"", NOT_ENCODABLE, refused=True)
    except httpx.TimeoutException:
        return Answer(None, httpx.Headers(), b"", "The vendor did not answer in time.")
    except httpx.HTTPError as exc:
        return Answer(
            None, httpx.Headers(), b"", f"Could not reach the vendor: {type(exc).__name__}."
        )
    return Answer(response.status_code, response.headers, response.content)
