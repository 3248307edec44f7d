"""Write keys never reach a log: gunicorn's access log (run with the project's configuration)
prints neither the HTTP Basic user nor ``aid``/``writeKey``/``write_key`` in query strings, and
the console's own log lines redact the same parameters and carry the server's request id.
Nor does a person looked up by a GET form: ``identifier``, ``subject``, ``email``, ``phone``
and ``q`` are redacted from query strings."""

import base64
import logging
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

from martech.common import context
from martech.common.logging import RequestContextFilter, redact

ROOT = Path(settings.BASE_DIR)
KEY = "wk_live_9f8e7d6c5b4a39281706"


@pytest.mark.parametrize(
    "line",
    [
        f"GET /i?e=pv&aid={KEY}&tv=js-3 HTTP/1.1",
        f"GET /v1/track?writeKey={KEY} HTTP/1.1",
        f"GET /v1/track?x=1&write_key={KEY} HTTP/1.1",
        f"aid={KEY}",
        f'{{"aid": "{KEY}"}}',
    ],
)
def test_log_redaction_removes_write_keys_from_query_strings(line):
    assert KEY not in redact(line)
    assert "[REDACTED]" in redact(line)


PERSON = "lena.fischer@example.de"


@pytest.mark.parametrize(
    "line",
    [
        f"GET /profiles/?identifier={PERSON} HTTP/1.1",
        "GET /profiles/?state=active&identifier=lena.fischer%40example.de HTTP/1.1",
        f"GET /consent/?identifier=email:{PERSON}&purpose=ads HTTP/1.1",
        f"GET /events/?q={PERSON} HTTP/1.1",
        f"GET /api/v1/consent-records/?subject={PERSON} HTTP/1.1",
        "GET /login/?next=/profiles/%3Fidentifier%3Dlena.fischer%2540example.de HTTP/1.1",
    ],
)
def test_log_redaction_removes_looked_up_identifiers_from_query_strings(line):
    assert "lena.fischer" not in redact(line)
    assert "[REDACTED]" in redact(line)


@pytest.mark.parametrize(
    "line",
    [
        f"GET /i?e=pv&uid={PERSON}&tv=js-3 HTTP/1.1",
        "GET /i?e=pv&duid=lena.fischer-device&nuid=lena.fischer-net HTTP/1.1",
        "GET /i?e=pv&tnuid=lena.fischer-3p&ip=203.0.113.9 HTTP/1.1",
        "GET /i?e=pv&url=https%3A%2F%2Fshop.example%2F%3Futm_term%3Dlena.fischer%2540x.de HTTP/1.1",
        "GET /i?e=pv&refr=https://mail.example/?to=lena.fischer HTTP/1.1",
        "GET /i?e=ue&ue_pr=%7B%22email%22%3A%22lena.fischer%22%7D HTTP/1.1",
        "GET /i?e=ue&ue_px=eyJlbWFpbCI6ImxlbmEuZmlzY2hlciJ9lena.fischer HTTP/1.1",
        "GET /i?e=pv&co=%7B%22id%22%3A%22lena.fischer%22%7D HTTP/1.1",
        "GET /i?e=pv&cx=lena.fischer HTTP/1.1",
    ],
)
def test_log_redaction_removes_the_person_from_a_snowplow_pixel_query_string(line):
    assert "lena.fischer" not in redact(line)
    assert "[REDACTED]" in redact(line)


def test_log_redaction_keeps_the_other_query_parameters():
    line = f"GET /profiles/?state=active&identifier={PERSON}&page=2 HTTP/1.1"
    assert redact(line) == "GET /profiles/?state=active&identifier=[REDACTED]&page=2 HTTP/1.1"


def test_log_records_carry_the_servers_and_the_clients_request_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    with context.acting(request_id="a" * 32, client_request_id="trace-1"):
        RequestContextFilter().filter(record)
    assert (record.request_id, record.client_request_id) == ("a" * 32, "trace-1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, **headers) -> int:
    try:
        return httpx.get(url, headers=headers, timeout=10, trust_env=False).status_code
    except httpx.TransportError:
        return 0


@pytest.mark.django_db
def test_gunicorn_with_the_project_configuration_logs_no_write_key_nor_a_looked_up_email(
    tmp_path,
):
    # given gunicorn serving the console with the project's configuration and an access log
    port, log = _free_port(), tmp_path / "access.log"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "martech.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "martech.wsgi:application",
            "-c",
            "gunicorn.conf.py",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--access-logfile",
            str(log),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90  # a loaded machine boots Django slowly
        while _get(f"{base}/healthz") != 200:
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        # when a source sends with its key as the Basic user, in a pixel and in a query
        basic = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
        _get(f"{base}/v1/track", Authorization=basic)
        _get(f"{base}/i?e=pv&aid={KEY}&eid=e1")
        _get(f"{base}/v1/track?writeKey={KEY}&write_key={KEY}")
        # and a person is looked up by email, the page coming from a lookup
        _get(
            f"{base}/profiles/?identifier={PERSON}", Referer=f"{base}/consent/?identifier={PERSON}"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    # then the access log has the three requests, with the server's request id, and no key
    lines = [line for line in log.read_text().splitlines() if "/healthz" not in line]
    assert len(lines) == 4
    assert KEY not in log.read_text()
    assert "lena.fischer" not in log.read_text()
    assert '"GET /profiles/?identifier=[REDACTED] HTTP/1.1"' in lines[3]
    assert "aid=[REDACTED]" in lines[1]
    assert all(re.search(r" [0-9a-f]{32}$", line) for line in lines)
