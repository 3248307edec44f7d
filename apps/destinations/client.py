"""The one HTTP client destinations use: a shared connection pool, bounded timeouts, and a
temporary-failure answer for network errors (never an exception into the engine)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import httpx
from django.conf import settings

from .adapters.base import Outbound

_local = threading.local()


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (timeout, refused, reset)
    headers: httpx.Headers
    body: bytes
    error: str = ""


def _client() -> httpx.Client:
    client = getattr(_local, "client", None)
    if client is None:
        timeout = settings.DELIVERY_TIMEOUT_SECONDS
        client = _local.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            follow_redirects=False,
        )
    return client


def send(request: Outbound) -> Answer:
    try:
        response = _client().request(
            request.method, request.url, headers=request.headers, content=request.body
        )
    except httpx.TimeoutException:
        return Answer(None, httpx.Headers(), b"", "The vendor did not answer in time.")
    except httpx.HTTPError as exc:
        return Answer(
            None, httpx.Headers(), b"", f"Could not reach the vendor: {type(exc).__name__}."
        )
    return Answer(response.status_code, response.headers, response.content)
