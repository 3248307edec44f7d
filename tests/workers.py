"""Start and stop real processes for the tests: a Celery worker, the embedded console."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

from martech.common.processes import celery_worker_argv

ROOT = Path(__file__).resolve().parent.parent


class Process:
    """A child process whose combined output is read line by line in the background."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.popen.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.25)
            except queue.Empty:
                if self.popen.poll() is not None:
                    break
                continue
            if text in line:
                return
        raise AssertionError(f"{text!r} did not appear; output:\n{''.join(self.output)[-4000:]}")

    def stop(self, sig=signal.SIGTERM, timeout: float = 20) -> int:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        return self.popen.returncode


def start_worker(env: dict[str, str]) -> Process:
    """Start a Celery worker consuming every queue, and wait until it is ready."""
    worker = Process(
        celery_worker_argv(f"test-{os.getpid()}@%h", "--without-mingle", "--without-gossip"),
        env,
    )
    worker.wait_for("ready.", timeout=60)
    return worker


def wait_until(predicate, timeout: float = 30, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
