"""The collection API over real HTTP, against raw PostgreSQL COPY of the same rows, on the
same machine in the same run.

gunicorn serves the console (``BENCH_COLLECT_WORKERS`` processes, default 2) on PostgreSQL;
a client on the same machine sends ``BENCH_COLLECT_REQUESTS`` batches (default 300) of 100
messages from ``BENCH_COLLECT_CLIENTS`` threads (default 4). Reported: events per second
accepted and stored (every one is counted in the table afterwards), request latency p50 and
p99; then the raw COPY rate for the same rows (transactions of 1,000 rows into the same
table with the same indexes); then the pipeline's rate over what was accepted, in
``BENCH_PIPELINE_WORKERS`` processes (default: as many as gunicorn has). The server runs the
production settings (connections kept between requests, Redis cache and broker).

Targets: the accept path at least 50% of the COPY rate; the pipeline at least as fast as
the accept path.
"""

from __future__ import annotations

import base64
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import orjson

from bench.audit_write import _setup

REQUESTS = int(os.environ.get("BENCH_COLLECT_REQUESTS", "300"))
CLIENTS = int(os.environ.get("BENCH_COLLECT_CLIENTS", "4"))
WORKERS = int(os.environ.get("BENCH_COLLECT_WORKERS", "2"))
PIPELINE_WORKERS = int(os.environ.get("BENCH_PIPELINE_WORKERS", str(WORKERS)))
BATCH = 100
ROOT = Path(__file__).resolve().parent.parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _batches(n: int) -> list[bytes]:
    out = []
    for r in range(n):
        messages = []
        for i in range(BATCH):
            person = (r * BATCH + i) % 5000
            url = f"https://www.acme.example/p/{i}?utm_source=news&utm_medium=email"
            messages.append({
                "type": "track", "event": "Product Viewed",
                "messageId": f"b-{r}-{i}-{uuid.uuid4().hex[:6]}",
                "anonymousId": f"ajs-{person:06d}", "timestamp": "2026-11-30T10:00:00Z",
                "properties": {"product_id": f"SKU-{i}", "price": 19.9, "category": "shoes"},
                "context": {"page": {"url": url}, "userAgent": "Mozilla/5.0",
                            "library": {"name": "bench"}},
            })  # fmt: skip
        out.append(orjson.dumps({"batch": messages, "sentAt": "2026-11-30T10:00:01Z"}))
    return out


def _serve(port: int) -> subprocess.Popen:
    # The production settings, as docker-compose runs them: database connections are kept
    # between requests, the cache and the broker are Redis.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "martech.settings.production",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdef0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_CACHE_URL": "rediscache://127.0.0.1:6379/9",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/10",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "martech.wsgi:application", "-b", f"127.0.0.1:{port}",
         "-w", str(WORKERS), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            return server
        except requests.RequestException:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start within a minute")


def _drive(port: int, key: str, bodies: list[bytes]) -> tuple[float, list[float]]:
    import requests

    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [bodies[i::CLIENTS] for i in range(CLIENTS)]

    def run(chunk):
        session = requests.Session()
        mine = []
        for body in chunk:
            started = time.perf_counter()
            headers = {"Authorization": auth, "Content-Type": "application/json"}
            response = session.post(
                f"http://127.0.0.1:{port}/v1/batch", data=body, headers=headers, timeout=30
            )
            mine.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies


def _copy_rate(rows: int, source_id: int) -> float:
    """Raw COPY of the same rows into events_event, 1,000 rows a transaction."""
    from django.db import connection, transaction

    payload = orjson.dumps(orjson.loads(_batches(1)[0])["batch"][0]).decode().replace("\\", "\\\\")
    statement = (
        "COPY events_event (source_id, message_id, type, name, anonymous_id, user_id, payload, "
        "timestamp, received_at, gpc, status, violations, attempts, error) FROM STDIN"
    )
    blocks = [
        "".join(
            f"{source_id}\tcopy-{start + i}\ttrack\tProduct Viewed\tajs-{i}\t\t{payload}\t"
            "2026-11-30T10:00:00+00:00\t2026-11-30T10:00:01+00:00\tf\treceived\t[]\t0\t\n"
            for i in range(min(1000, rows - start))
        )
        for start in range(0, rows, 1000)
    ]  # formatted before the clock starts: the baseline is COPY alone
    started = time.perf_counter()
    for block in blocks:
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(statement) as copy,
        ):
            copy.write(block)
    return rows / (time.perf_counter() - started)


def _drain(_: int) -> int:
    from apps.events.pipeline import process_waiting

    total = 0
    while taken := process_waiting(max_batches=1000):
        total += taken
    return total


def _pipeline_rate(workers: int) -> tuple[float, int]:
    """The pipeline in ``workers`` processes at once (as a Celery worker with that
    concurrency runs it): events processed per second until nothing waits."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # each forked process opens its own
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        started = time.perf_counter()
        processed = sum(pool.map(_drain, range(workers)))
        elapsed = time.perf_counter() - started
    return processed / elapsed, processed


def main() -> None:
    _setup()
    from django.db import connection

    from apps.accounts.models import User
    from apps.consent.defaults import ensure_default_purposes
    from apps.events.models import Event, Source
    from apps.events.services import source_create

    ensure_default_purposes()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE events_event RESTART IDENTITY CASCADE")
    Source.objects.filter(name="Bench").delete()
    actor = User.objects.filter(email="bench@martech.example").first()
    if actor is None:
        actor = User.objects.create_superuser(
            email="bench@martech.example", password=None, full_name="Bench"
        )
    source, key = source_create(actor=actor, name="Bench", rate_limit=100_000)
    bodies = _batches(REQUESTS)
    port = _port()
    server = _serve(port)
    try:
        _drive(port, key, _batches(4))  # warm up
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE events_event RESTART IDENTITY CASCADE")
        elapsed, latencies = _drive(port, key, bodies)
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = Event.objects.filter(source=source).count()
    accepted = stored / elapsed
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    copy_rate = _copy_rate(stored, source.pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_event WHERE message_id LIKE 'copy-%%'")
    pipeline, processed = _pipeline_rate(PIPELINE_WORKERS)
    print(f"collect over HTTP: {REQUESTS} requests x {BATCH} messages, {CLIENTS} clients, "
          f"gunicorn x{WORKERS}")  # fmt: skip
    print(f"  accepted and stored        {accepted:10,.0f} events/s  ({stored:,} stored)")
    print(f"  request latency            p50 {p50 * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms")
    print(f"  raw COPY, 1,000-row tx     {copy_rate:10,.0f} rows/s")
    print(f"  accept / COPY              {accepted / copy_rate:10.0%}  (target: at least 50%)")
    print(f"  pipeline, {PIPELINE_WORKERS} processes       {pipeline:10,.0f} events/s  "
          f"({processed:,} processed)"
          f"  = {pipeline / accepted:.2f}x the accept rate (target: at least 1x)")  # fmt: skip


if __name__ == "__main__":
    main()
