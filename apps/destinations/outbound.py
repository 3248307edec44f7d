"""The outbound port: the one way any part of the console talks to a vendor.

Deliveries, sync runs, erasure propagation and send tests all come here for one
destination's ``Vendor``: its adapter, its credentials (decrypted once), its base URL, its
pacing (shared by every thread sending for it), sending through the one HTTP client (so the
egress policy of ``martech.common.egress`` applies to every request and to every address
it connects to), reading the vendor's answer through the adapter, keeping the vendor's
words without any credential, and the backoff between attempts. Callers keep only their
own claiming and bookkeeping: what is due, what was acknowledged, what is recorded where.

Nothing here writes to the database and nothing here runs inside a caller's transaction by
design: callers send with no row lock held and record the outcome afterwards.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

from martech.common.crypto import decrypt

from . import client
from .adapters import CATALOG, Adapter, Item, Outbound, Result, Verdict
from .adapters.base import DeletionAnswer
from .masking import result_kept, vendor_text

__all__ = [
    "DELIVERY_BACKOFF",
    "ERASURE_BACKOFF",
    "IN_RUN_BACKOFF",
    "Adapter",
    "Backoff",
    "DeletionAnswer",
    "Item",
    "Outbound",
    "Result",
    "Vendor",
    "Verdict",
    "adapter",
    "vendor_for",
]


@dataclass(frozen=True)
class Backoff:
    """The one backoff policy: an exponential ceiling (``first`` seconds for the first
    retry, doubling, never above ``cap``), a wait drawn at random between ``floor`` of the
    ceiling and the ceiling (0: full jitter), and never sooner than the vendor asked
    (Retry-After). Schedules differ only by these numbers; an adapter whose vendor needs
    another schedule for its deliveries declares ``retry_backoff``."""

    first: float
    cap: float
    floor: float = 0.0

    def ceiling(self, attempts: int) -> float:
        return min(self.cap, self.first * 2 ** max(0, attempts - 1))

    def wait(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds until the next attempt, after ``attempts`` attempts."""
        ceiling = self.ceiling(attempts)
        return max(random.uniform(self.floor * ceiling, ceiling), retry_after or 0.0)


# Deliveries: a retry within 30 seconds, then up to every 30 minutes, for the retry window.
DELIVERY_BACKOFF = Backoff(first=30.0, cap=30 * 60.0)
# Erasure calls: at least half a minute, up to every 6 hours, for the erasure retry window.
ERASURE_BACKOFF = Backoff(first=60.0, cap=6 * 3600.0, floor=0.5)
# Tries of one request within a sync run, before its rows wait for the next run.
IN_RUN_BACKOFF = Backoff(first=1.0, cap=30.0)


def adapter(key: str) -> Adapter | None:
    """The adapter called ``key`` (what it supports, needs, is called), or None."""
    return CATALOG.get(key)


class Pacer:
    """Spaces requests ``1 / rate`` seconds apart across every thread that uses it: each
    caller reserves the next slot under a lock and sleeps outside it."""

    def __init__(self, rate: float | None):
        self.spacing = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.spacing:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.spacing
        if slot > now:
            time.sleep(slot - now)


class BuildFailed(Exception):
    """The adapter could not build the vendor request from this configuration or item;
    ``message`` says why, without any credential."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Threads that send for several requests at once; shared by every vendor in this process, so
# their HTTP connections (one client a thread) are kept alive from one run to the next.
MAX_PARALLEL = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(MAX_PARALLEL, thread_name_prefix="outbound")
        return _pool


def _after_fork() -> None:  # a forked worker starts with no threads of its parent's pool
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


class Vendor:
    """One destination's way out: build, pace, send, classify, keep, back off."""

    def __init__(self, destination):
        self.destination = destination
        self.adapter: Adapter = CATALOG[destination.adapter]
        self.config: dict = destination.config or {}
        self.base_url = (destination.base_url or self.adapter.default_base_url).rstrip("/")
        self.pacer = Pacer(self.adapter.rate_for(self.config))
        self.backoff: Backoff = getattr(self.adapter, "retry_backoff", None) or DELIVERY_BACKOFF
        self.requests_sent = 0
        self._count = threading.Lock()

    @cached_property
    def credentials(self) -> dict:
        """Decrypted once, when first needed (a plan that sends nothing never needs them)."""
        return decrypt(self.destination.credentials_token)

    @property
    def batch_size(self) -> int:
        return self.adapter.batch_size

    # -- building ---------------------------------------------------------------------

    def build(self, items: list[Item]) -> list[Outbound]:
        """The vendor requests that carry ``items``; ``BuildFailed`` when they cannot be
        built (a configuration or an item the vendor call cannot be made from)."""
        try:
            return self.adapter.requests(items, self.config, self.credentials, self.base_url)
        except Exception as exc:
            raise BuildFailed(
                self.kept(f"Could not build the vendor request: {type(exc).__name__}: {exc}")
            ) from None

    def erasure(self, identifiers: dict[str, str]) -> Outbound:
        """The request that erases a person; ``ValueError`` when the adapter cannot erase
        by these identifiers."""
        return self.adapter.deletion(identifiers, self.config, self.credentials, self.base_url)

    def erasure_poll(self, receipt: str) -> Outbound | None:
        """The request that asks whether a waiting erasure is done, or None."""
        return self.adapter.deletion_poll(receipt, self.config, self.credentials, self.base_url)

    def kept(self, text: str) -> str:
        """A vendor's words as the console keeps them: one short line, no credential."""
        return vendor_text(text, self.credentials)

    # -- sending ----------------------------------------------------------------------

    def transmit(self, request: Outbound) -> client.Answer:
        """Pace, then send ``request`` through the egress policy; never raises."""
        self.pacer.wait()
        answer = client.send(request)
        with self._count:
            self.requests_sent += 1
        return answer

    def send(self, request: Outbound) -> Result:
        """Send one request and read the answer: delivered, retry (temporary) or permanent
        (a refusal, or a target the egress policy refuses), texts kept without credentials."""
        answer = self.transmit(request)
        if answer.refused:  # the egress policy: nothing was sent, nor will be
            result = Result(Verdict.PERMANENT, None, answer.error)
        elif answer.status is None:
            result = Result(Verdict.RETRY, None, answer.error)
        else:
            result = self.adapter.classify(answer.status, answer.headers, answer.body, request.keys)
        return result_kept(result, self.credentials)

    def send_retrying(
        self, request: Outbound, *, tries: int = 4, backoff: Backoff = IN_RUN_BACKOFF
    ) -> Result:
        """Send one request, trying again up to ``tries`` times while the vendor says
        "later" (waiting as ``backoff`` says); a vendor that asks for a pause longer than
        the schedule allows gets its answer back at once (the caller's next run)."""
        for attempt in range(1, tries + 1):
            result = self.send(request)
            if result.verdict != Verdict.RETRY or attempt == tries:
                return result
            wait = backoff.wait(attempt, result.retry_after)
            if wait > 10 * backoff.cap:
                return result
            time.sleep(wait)
        return result  # pragma: no cover

    def send_groups(self, groups: list[list[Outbound]]) -> Iterator[list[tuple[Outbound, Result]]]:
        """Send each group's requests in order, the groups side by side (up to
        ``MAX_PARALLEL`` at a time; pacing still spaces every request); yields each group's
        ``(request, result)`` pairs in the order of ``groups``. A group stops at its first
        temporary failure: the requests after it are not sent (they are left out of its
        pairs), so nothing of a group overtakes what failed before it."""
        if len(groups) <= 1:
            for group in groups:
                yield self._send_in_order(group)
            return
        yield from self.start_groups(groups)()

    def start_groups(
        self, groups: list[list[Outbound]]
    ) -> Callable[[], list[list[tuple[Outbound, Result]]]]:
        """Start sending ``groups`` as ``send_groups`` does, on the port's threads, and return
        at once, so that the caller does other work meanwhile; the function returned waits
        for every group's pairs and gives them in the order of ``groups``."""
        pool = _threads()
        futures = [pool.submit(self._send_in_order, group) for group in groups]
        return lambda: [future.result() for future in futures]

    def _send_in_order(self, requests: list[Outbound]) -> list[tuple[Outbound, Result]]:
        out = []
        for request in requests:
            result = self.send(request)
            out.append((request, result))
            if result.verdict == Verdict.RETRY:
                break
        return out

    def erase(
        self, request: Outbound, *, poll_receipt: str = ""
    ) -> tuple[DeletionAnswer, int | None]:
        """Send an erasure (or, with ``poll_receipt``, its status check) and read the answer;
        the HTTP status too (None: no answer). The answer's texts are the vendor's own."""
        answer = self.transmit(request)
        if answer.refused:
            return DeletionAnswer("refused", message=answer.error), None
        if answer.status is None:
            return DeletionAnswer("retry", message=answer.error), None
        if poll_receipt:
            found = self.adapter.deletion_poll_answer(
                answer.status, answer.headers, answer.body, poll_receipt
            )
        else:
            found = self.adapter.deletion_answer(answer.status, answer.headers, answer.body)
        return found, answer.status


def vendor_for(destination) -> Vendor:
    """The way out to ``destination``'s vendor."""
    return Vendor(destination)


def answers(vendor: Vendor, requests: Iterable[Outbound]) -> list[client.Answer]:
    """Send ``requests`` as they are and return the vendor's raw answers (a send test shows
    them); the egress policy and pacing apply."""
    return [vendor.transmit(r) for r in requests]
