"""Run the whole console on one machine: web server, Celery worker and Celery beat.

Used by ``make run``. It migrates, loads the demo data, collects static files, starts the
three processes, waits until the web server answers, the worker is ready and beat has started,
prints the URL and the demo login last, and stops everything it started on Ctrl-C (or when any
of the processes dies).

Each process writes its output (request lines, the worker's task lines) to its own file under
``var/log/``, rotated at ``LOG_MAX_BYTES`` with ``LOG_BACKUPS`` older files kept (``web.log.1``
is the newest of those), so a console left running does not fill the disk; the terminal shows
only their errors, so the address stays in view.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from martech.common.processes import celery_worker_argv

# The first line of a log record: ours (``2026-01-01 10:00:00,000 WARNING name ...``),
# gunicorn's (``[2026-01-01 10:00:00 +0000] [42] [ERROR] ...``) or a request line.
RECORD = re.compile(r"^(\d{4}-\d\d-\d\d \S+ [A-Z]+ |\[[^\]]+\] \[\d+\] \[[A-Z]+\] |\S+ - - \[)")
SHOWN = re.compile(r"^(\d{4}-\d\d-\d\d \S+ |\[[^\]]+\] \[\d+\] \[)(ERROR|CRITICAL)\b")
# What each process prints once it is serving.
READY = {"web": "Booting worker with pid", "worker": " ready.", "beat": "beat: Starting..."}
LOG_MAX_BYTES = 10 * 1024 * 1024  # each process's log is rotated at this size...
LOG_BACKUPS = 5  # ...keeping this many older files


def _quiet(argv: list[str]) -> list[str]:
    """``python -m celery ...`` with Celery's global ``--quiet`` option."""
    return [*argv[:3], "--quiet", *argv[3:]]


def keep_private(var_dir: Path) -> None:
    """Make what the console writes under ``var_dir`` readable by its own user only.

    The SQLite database holds customers' emails and events, the logs their requests and the
    job queue its task arguments. From here on, this process and the three it starts create
    files 0600 and folders 0700 (umask 077); the database, logs and queue a previous run left
    are narrowed the same way. ``var_dir`` itself is left as it is: it may be a shared place.
    """
    os.umask(0o077)
    paths: list[Path] = []
    if "sqlite" in settings.DATABASES["default"]["ENGINE"]:
        database = Path(settings.DATABASES["default"]["NAME"])
        paths += [
            database.with_name(database.name + end) for end in ("", "-wal", "-shm", "-journal")
        ]
    for folder in ("log", "broker"):
        paths += [var_dir / folder, *(var_dir / folder).rglob("*")]
    for path in paths:
        try:
            if path.is_symlink() or path.stat().st_uid != os.getuid():
                continue
            path.chmod(0o700 if path.is_dir() else 0o600)
        except (FileNotFoundError, PermissionError):
            continue


class Output:
    """Reads one process's output: every line goes to its log file; errors, with the traceback
    lines that follow them, also go to the terminal (a 404's warning does not)."""

    def __init__(
        self,
        name: str,
        process: subprocess.Popen,
        path: Path,
        terminal,
        *,
        max_bytes: int = LOG_MAX_BYTES,
        backups: int = LOG_BACKUPS,
    ):
        self.name, self.path, self.terminal = name, path, terminal
        self._file = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        self.ready = threading.Event()
        self._process = process
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self):
        showing = False
        try:
            for line in self._process.stdout:
                # the handler rolls the file over before a line would take it past its size
                self._file.emit(logging.makeLogRecord({"msg": line.rstrip("\n")}))
                if RECORD.match(line):
                    showing = bool(SHOWN.match(line))
                if showing:
                    self.terminal(f"[{self.name}] {line.rstrip()}")
                if READY[self.name] in line:
                    self.ready.set()
        finally:
            self._file.close()

    def tail(self, lines: int = 20) -> str:
        self._thread.join(timeout=2)
        try:
            return "\n".join(self.path.read_text(encoding="utf-8").splitlines()[-lines:])
        except OSError:
            return ""


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat on the embedded defaults."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("MARTECH_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("MARTECH_PORT", 8000)))
        parser.add_argument("--no-demo", action="store_true", help="Do not load demo data.")

    def handle(self, *args, host, port, no_demo, **options):
        keep_private(Path(settings.VAR_DIR))
        for folder in ("queue", "control", "processed"):
            Path(settings.VAR_DIR, "broker", folder).mkdir(parents=True, exist_ok=True)
        log_dir = Path(settings.VAR_DIR, "log")
        log_dir.mkdir(parents=True, exist_ok=True)
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
            # Celery's advice against running as root is for shared servers, not a laptop's demo.
            "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
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
            # The worker and beat without Celery's banner and task list (``celery --quiet``).
            "worker": _quiet(celery_worker_argv("embedded@%h")),
            "beat": _quiet([python, "-m", "celery", "-A", "martech", "beat", "--loglevel", "INFO"]),
        }
        processes: dict[str, subprocess.Popen] = {}
        outputs: dict[str, Output] = {}
        stopping = False

        def stop(*_args):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, command in commands.items():
                processes[name] = subprocess.Popen(  # noqa: S603 (our own interpreter)
                    command,
                    env=env,
                    cwd=settings.BASE_DIR,
                    start_new_session=True,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                outputs[name] = Output(name, processes[name], log_dir / f"{name}.log", self._say)
            url = f"http://{host}:{port}/"
            self.stdout.write("Starting the web server, a worker and beat...")
            self._wait_ready(url, processes, outputs, lambda: stopping)
            if not stopping:
                self._announce(url, log_dir)
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(
                            f"The {name} process exited ({process.returncode}); the end of "
                            f"{outputs[name].path}:\n{outputs[name].tail()}"
                        )
                        stopping = True
                time.sleep(0.5)
        finally:
            self._stop_all(processes)
        self.stdout.write("Stopped the web server, the worker and beat.")

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _wait_ready(self, url, processes, outputs, is_stopping, timeout=120):
        """Wait until the web server answers /readyz, the worker is ready and beat started."""
        deadline = time.monotonic() + timeout
        serving = False
        while not is_stopping() and time.monotonic() < deadline:
            dead = [n for n, p in processes.items() if p.poll() is not None]
            if dead:
                ends = "\n".join(f"{outputs[n].path}:\n{outputs[n].tail()}" for n in dead)
                raise CommandError(f"{', '.join(dead)} failed to start; the end of {ends}")
            if not serving:
                try:
                    with urllib.request.urlopen(url + "readyz", timeout=5) as response:  # noqa: S310
                        serving = response.status == 200
                except (urllib.error.URLError, OSError):
                    pass
            if serving and all(output.ready.is_set() for output in outputs.values()):
                return
            time.sleep(0.5)
        if not is_stopping():
            waiting = [n for n, o in outputs.items() if not o.ready.is_set()]
            raise CommandError(
                f"The console did not become ready at {url} in {timeout}s"
                + (f" (waiting for: {', '.join(waiting)})." if waiting else ".")
            )

    def _announce(self, url, log_dir):
        from apps.accounts.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD

        lines = [
            "",
            "MarTech Console is running (embedded: SQLite, file-system job queue).",
            f"  Open      {url}",
            f"  Sign in   {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}",
            f"  API docs  {url}api/docs/",
            f"  Logs      {log_dir}/ (web.log with every request, worker.log, beat.log);",
            "            errors show here as well.",
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
