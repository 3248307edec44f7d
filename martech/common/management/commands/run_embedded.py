"""Run the whole console on one machine: web server, Celery worker and Celery beat.

Used by ``make run``. It migrates, loads the demo data, collects static files, starts the
three processes, waits until the console is ready, prints the URL and the demo login,
and stops everything it started on Ctrl-C (or when any of the processes dies).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from martech.common.processes import celery_worker_argv


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat on the embedded defaults."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("MARTECH_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("MARTECH_PORT", 8000)))
        parser.add_argument("--no-demo", action="store_true", help="Do not load demo data.")

    def handle(self, *args, host, port, no_demo, **options):
        for folder in ("queue", "control", "processed"):
            Path(settings.VAR_DIR, "broker", folder).mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo:
            call_command("load_demo")
        call_command("collectstatic", interactive=False, verbosity=0)

        python = sys.executable
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "martech.settings.local"
            ),
            "PYTHONUNBUFFERED": "1",
        }
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "martech.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ],
            "worker": celery_worker_argv("embedded@%h"),
            "beat": [python, "-m", "celery", "-A", "martech", "beat", "--loglevel", "INFO"],
        }
        processes: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_args):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, command in commands.items():
                processes[name] = subprocess.Popen(  # noqa: S603 (our own interpreter)
                    command, env=env, cwd=settings.BASE_DIR, start_new_session=True
                )
            url = f"http://{host}:{port}/"
            self._wait_ready(url, processes, lambda: stopping)
            if not stopping:
                self._announce(url)
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"The {name} process exited ({process.returncode}).")
                        stopping = True
                time.sleep(0.5)
        finally:
            self._stop_all(processes)
        self.stdout.write("Stopped the web server, the worker and beat.")

    def _wait_ready(self, url, processes, is_stopping, timeout=90):
        deadline = time.monotonic() + timeout
        while not is_stopping() and time.monotonic() < deadline:
            dead = [n for n, p in processes.items() if p.poll() is not None]
            if dead:
                raise CommandError(f"{', '.join(dead)} failed to start; see the log above.")
            try:
                with urllib.request.urlopen(url + "readyz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        if not is_stopping():
            raise CommandError(f"The console did not become ready at {url} in {timeout}s.")

    def _announce(self, url):
        from apps.accounts.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD

        lines = [
            "",
            "MarTech Console is running (embedded: SQLite, file-system job queue).",
            f"  Open      {url}",
            f"  Sign in   {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}",
            f"  API docs  {url}api/docs/",
            "  Press Ctrl-C to stop the web server, the worker and beat.",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
        self.stdout.flush()

    def _stop_all(self, processes):
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
