"""Reading ahead: an iterator drained on a helper thread while the caller works."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator


class Prefetch:
    """An iterator read ahead on a helper thread from the moment it is made, so the database
    works on the next batch while this one is compared and sent; an error there is raised
    here. ``close`` stops the helper (also when nothing was read)."""

    _END = object()

    def __init__(self, batches: Iterator, depth: int = 2, name: str = "sync-reader"):
        self._box: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._batches = batches
        self._thread = threading.Thread(target=self._pump, daemon=True, name=name)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._box.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _pump(self) -> None:
        try:
            for item in self._batches:
                if not self._put(item):
                    break
            else:
                self._put(self._END)
        except BaseException as exc:  # handed to the consumer
            self._put(exc)
        finally:
            close = getattr(self._batches, "close", None)
            if close is not None:
                close()

    def __iter__(self):
        return self

    def __next__(self):
        item = self._box.get()
        if item is self._END:
            self._box.put(item)  # stays exhausted
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._box.get(timeout=0.1)
            self._thread.join(timeout=0.1)
