"""A nudge asks for a task run from a thread of the process: the caller neither waits nor
fails, runs are at most one a second, and a nudge that comes during the wait is not lost."""

import threading
import time

from django.core.cache import cache

from martech.common.sharedcache import Nudge
from tests.workers import wait_until


def test_the_caller_does_not_wait_for_a_slow_send_and_a_failing_one_is_not_raised():
    started = threading.Event()

    def slow_then_fail():
        started.set()
        time.sleep(0.5)
        raise ConnectionError("broker unreachable")

    nudge = Nudge("test:nudge:slow", slow_then_fail)
    before = time.monotonic()
    nudge()
    assert time.monotonic() - before < 0.2
    assert started.wait(5)


def test_nudges_within_a_second_become_one_send_then_one_more_after_the_wait():
    sent = []
    nudge = Nudge("test:nudge:burst", lambda: sent.append(time.monotonic()))
    nudge()
    wait_until(lambda: len(sent) == 1, timeout=5, interval=0.01)
    for _ in range(20):
        nudge()
    wait_until(lambda: len(sent) == 2, timeout=5, interval=0.01)
    time.sleep(1.5)
    assert len(sent) == 2
    assert sent[1] - sent[0] >= 1


def test_a_nudge_while_another_process_holds_the_key_is_sent_once_the_key_expires():
    sent = []
    cache.delete("test:nudge:held")
    assert cache.add("test:nudge:held", 1, timeout=1)  # another process has just sent
    held_at = time.monotonic()
    Nudge("test:nudge:held", lambda: sent.append(time.monotonic()))()
    wait_until(lambda: len(sent) == 1, timeout=5, interval=0.01)
    assert sent[0] - held_at >= 0.9
