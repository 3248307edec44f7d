"""The embedded mode end to end: SQLite, a file-system job queue, a real worker and beat."""

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.workers import ROOT, Process, wait_until

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shell(env, code: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def embedded_env(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "MARTECH_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="martech.settings.local", MARTECH_VAR_DIR=str(tmp_path))
    return env


def _readable_by_others(root: Path) -> list[str]:
    paths = [*root.glob("martech.sqlite3*"), *root.glob("log/**/*"), *root.glob("broker/**/*")]
    return sorted(str(p) for p in paths if p.stat().st_mode & 0o077)


def test_embedded_console_serves_runs_jobs_and_stops_on_ctrl_c(embedded_env, tmp_path):
    port = _free_port()
    # a log a previous run left readable by everyone
    (tmp_path / "log").mkdir(mode=0o755)
    (tmp_path / "log" / "web.log").write_text("")
    (tmp_path / "log" / "web.log").chmod(0o644)
    console = Process(
        [sys.executable, "manage.py", "run_embedded", "--port", str(port)], embedded_env
    )
    try:
        # it starts, loads the demo data and prints the address and the demo login
        console.wait_for("Press Ctrl-C", timeout=180)
        banner = "".join(console.output)
        assert f"http://127.0.0.1:{port}/" in banner
        assert "ops.admin@acme.example / martech-demo-2026" in banner
        assert f"Logs      {tmp_path / 'log'}/" in banner
        assert (tmp_path / "martech.sqlite3").exists()
        # once the worker and beat are up: Celery's banner, task list and warnings stay out of
        # the terminal, and the worker's lines are in its log
        for noise in ("[tasks]", "[queues]", "No hostname was supplied", "SecurityWarning"):
            assert noise not in banner, noise
        assert " ready." in (tmp_path / "log" / "worker.log").read_text()
        assert "beat: Starting..." in (tmp_path / "log" / "beat.log").read_text()
        base = f"http://127.0.0.1:{port}"

        ready = requests.get(f"{base}/readyz", timeout=10).json()
        assert ready["checks"]["broker"]["transport"] == "filesystem"

        # the demo login works in the browser flow, with CSRF
        session = requests.Session()
        session.get(f"{base}/login/", timeout=10)
        signed_in = session.post(
            f"{base}/login/",
            data={
                "username": "ops.admin@acme.example",
                "password": "martech-demo-2026",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/login/"},
            timeout=10,
        )
        assert signed_in.url == f"{base}/"
        assert "Changes in the last 14 days" in signed_in.text
        assert session.get(f"{base}/static/vendor/tabler/tabler.min.css", timeout=10).ok

        # the attribution report and its CSV read the demo's touches on SQLite
        report = session.get(f"{base}/attribution/", timeout=30)
        assert report.status_code == 200, report.text[-2000:]
        exported = session.get(f"{base}/attribution/?format=csv", timeout=30)
        assert exported.status_code == 200, exported.text[-2000:]
        assert exported.headers["Content-Type"].startswith("text/csv")

        # beat registered the periodic tasks, and the worker runs queued tasks
        periodic = _shell(
            embedded_env,
            "from django_celery_beat.models import PeriodicTask;"
            "print(sorted(PeriodicTask.objects.values_list('name', flat=True)))",
        )
        assert "accounts-purge-expired-api-tokens" in periodic
        _shell(
            embedded_env,
            "import datetime as dt; from django.utils import timezone;"
            "from apps.accounts.models import ApiToken;"
            "from apps.accounts.tasks import api_tokens_purge_expired_task;"
            "ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(days=400));"
            "api_tokens_purge_expired_task.delay()",
        )
        wait_until(
            lambda: (
                _shell(
                    embedded_env,
                    "from apps.audit.models import AuditEvent;"
                    "print(AuditEvent.objects.filter(action='accounts.api_token.purged').count())",
                )
                == "1"
            ),
            timeout=60,
            interval=1,
        )
        # the requests and the tasks went to the logs: the banner is still the last thing shown
        web_log = (tmp_path / "log" / "web.log").read_text()
        # the database, the logs and the job queue are for the console's own user only
        assert (tmp_path / "martech.sqlite3").stat().st_mode & 0o777 == 0o600
        assert _readable_by_others(tmp_path) == []
        assert '"GET /attribution/?format=csv HTTP/1.1" 200' in web_log
        assert (
            "".join(console.output)
            .rstrip()
            .endswith("Press Ctrl-C to stop the web server, the worker and beat.")
        ), "".join(console.output)[-3000:]
    finally:
        # Ctrl-C stops everything it started
        returncode = console.stop(signal.SIGINT, timeout=40)
    output = "".join(console.output)
    assert "Stopped the web server, the worker and beat." in output, output[-3000:]
    assert returncode == 0
    pids = re.findall(r"Booting worker with pid: (\d+)", (tmp_path / "log" / "web.log").read_text())
    assert pids
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "zombie" in status.read_text().lower()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/healthz", timeout=3)
