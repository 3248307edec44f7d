"""Who is acting, and in which request, for the code running right now.

The web middleware and the Celery task base class set it; the audit writer and the log
filter read it. A ``ContextVar`` keeps it correct across threads and tasks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class ActorContext:
    request_id: str = ""
    ip_address: str | None = None
    user: Any = None
    # Who acts when no user does, for example ``task:accounts.api_token_purge_expired``.
    system_actor: str = ""


# ActorContext is a frozen dataclass, so sharing one default instance is safe.
_current: ContextVar[ActorContext] = ContextVar(
    "martech_actor_context",
    default=ActorContext(),  # noqa: B039
)


def current() -> ActorContext:
    """Return the context of the code running now."""
    return _current.get()


def new_request_id() -> str:
    """Return a fresh request id."""
    return uuid.uuid4().hex


@contextmanager
def acting(**changes: Any) -> Iterator[ActorContext]:
    """Run a block with some fields of the context replaced."""
    token = _current.set(replace(_current.get(), **changes))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def set_user(user: Any) -> None:
    """Record the authenticated user once authentication has happened."""
    _current.set(replace(_current.get(), user=user))
