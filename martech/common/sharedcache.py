"""What processes share through the cache (Redis in production): generations and counters.

A *generation* is a value that a change replaces. A process that keeps something read from the
database in memory (write keys, the suppression list) keeps it with the generation it was read
under, and asks for the current one before using it: one cache read instead of a query. A
collection request reads every registered generation in one round trip (``snapshot``).

A *counter* (``hit``) counts requests in a window, in one round trip on Redis.

A *nudge* asks for a task run soon without making its caller wait or fail: a thread of the
process sends it, at most once a second from all processes together.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache as memoise

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

_names: set[str] = set()


@dataclass
class _Snapshot:
    values: dict[str, object] | None = None  # the generations, once read
    ahead: dict[str, int] = field(default_factory=dict)  # counter → window, to count with them
    counted: dict[str, int] = field(default_factory=dict)  # counter → its count, once read


_taken: ContextVar[_Snapshot | None] = ContextVar("generations", default=None)


def register(name: str) -> str:
    """Declare a generation that ``snapshot`` reads; returns the name."""
    _names.add(name)
    return name


def _on_redis() -> bool:
    return isinstance(caches["default"], RedisCache)


def shared() -> bool:
    """Whether the cache is one all processes see (not each process's own memory): only then
    does a generation tell one process of another's change."""
    return not isinstance(caches["default"], LocMemCache | DummyCache)


def _key(name: str) -> str:
    return f"martech:generation:{name}"


def bump(name: str) -> None:
    """Replace the generation once the current transaction commits (at once outside one)."""

    def replace() -> None:
        token = secrets.token_hex(8)
        if _on_redis():
            _redis().set(_key(name), token)
        else:
            cache.set(_key(name), token, None)

    transaction.on_commit(replace)


def started(name: str, seen: object) -> object:
    """``seen`` (a generation read just now), or, when the cache held none (it was flushed,
    evicted or never written), a new one written at once unless another process did so
    first. What a process keeps is then never kept under a missing generation, which the
    cache could answer again after losing a replacement."""
    if seen is not None:
        return seen
    token = secrets.token_hex(8)
    if _on_redis():
        _redis().set(_key(name), token, nx=True)
    else:
        cache.add(_key(name), token, None)
    return _read([name])[name]


def _read(names: list[str]) -> dict[str, object]:
    keys = [_key(name) for name in names]
    if _on_redis():  # the client itself: Django's backend builds a new client for each call
        values = _redis().mget(keys)
    else:
        found = cache.get_many(keys)
        values = [found.get(key) for key in keys]
    return dict(zip(names, values, strict=True))


def current(name: str) -> object:
    """The generation now: from the open snapshot (read at its first use), else the cache."""
    taken = _taken.get()
    if taken is not None:
        if taken.values is None:
            _fill(taken)
        if name in taken.values:
            return taken.values[name]
    return _read([name])[name]


def _fill(taken: _Snapshot) -> None:
    names = sorted(_names)
    if not (taken.ahead and _on_redis()):
        taken.values = _read(names)
        return
    pipe = _redis().pipeline(transaction=False)
    if names:
        pipe.mget([_key(name) for name in names])
    for key, window in taken.ahead.items():
        pipe.incr(key)
        pipe.expire(key, window)
    answers = pipe.execute()
    taken.values = dict(zip(names, answers.pop(0) if names else [], strict=True))
    for key, count in zip(taken.ahead, answers[::2], strict=True):
        taken.counted[key] = int(count)


@contextmanager
def snapshot() -> Iterator[None]:
    """Every registered generation, read at once when the code inside the block first needs
    one, and the same for the whole block."""
    token = _taken.set(_Snapshot())
    try:
        yield
    finally:
        _taken.reset(token)


def count_ahead(key: str, window: int) -> None:
    """Inside a snapshot not read yet, on Redis: count one more in ``key`` in the snapshot's
    own round trip; ``hit(key, …)`` then answers that count instead of counting again.
    Elsewhere it does nothing (``hit`` counts as usual)."""
    taken = _taken.get()
    if taken is not None and taken.values is None and _on_redis():
        taken.ahead[key] = window


@memoise
def _redis():
    """A client of the cache's Redis server (the first one when several are configured)."""
    location = settings.CACHES["default"]["LOCATION"]
    if isinstance(location, list | tuple):
        location = location[0]
    return redis.Redis.from_url(location.split(",")[0])


def hit(key: str, window: int) -> int:
    """Count one more in ``key``, a counter that lives ``window`` seconds; the count so far
    (counted already when the open snapshot was asked to count it ahead)."""
    taken = _taken.get()
    if taken is not None and key in taken.ahead and taken.values is None:
        _fill(taken)
    if taken is not None and key in taken.counted:
        return taken.counted.pop(key)
    if _on_redis():
        pipe = _redis().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window)
        return int(pipe.execute()[0])
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, timeout=window)
        return 1


class Nudge:
    """``nudge()`` asks for ``send()`` (a task's ``delay``) to happen soon. The caller never
    waits (a broker's first connection can take seconds) and never fails: what the task would
    do is stored already, and a periodic task does it anyway. One thread per process sends,
    at most once a second, and only when the cache's ``key`` says no process sent in the last
    second; a nudge that comes while the thread waits, or while another process's send holds
    the key, is sent after the wait, not dropped."""

    def __init__(self, key: str, send: Callable[[], object]):
        self.key, self.send = key, send
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        self._wanted.set()
        if self._thread is None or not self._thread.is_alive():  # none yet, or forked since
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name=self.key, daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                if cache.add(self.key, 1, timeout=1):
                    self.send()
                else:  # another process sent less than a second ago, maybe before our data
                    self._wanted.set()
            except Exception:
                logging.getLogger(__name__).warning("could not send %s", self.key, exc_info=True)
            time.sleep(1)
