"""The collection API over real HTTP, against raw PostgreSQL COPY of the same rows, on the
same machine in the same run.

gunicorn serves the console as ``docker-compose.yml`` runs it (gthread workers:
``BENCH_COLLECT_WORKERS`` processes, default 2, of ``BENCH_COLLECT_THREADS`` threads, default
4) on PostgreSQL; a client on the same machine sends batches of 100 messages from
``BENCH_COLLECT_CLIENTS`` connections (default 8). The client is lean (each request's bytes
are built before the clock starts, and sent on kept-alive sockets) so that the two cores
serve rather than send.

``BENCH_COLLECT_ROUNDS`` rounds (default 9) each send ``BENCH_COLLECT_REQUESTS`` requests
(default 200), time raw COPY of as many rows (transactions of 1,000 rows into the same table
with the same indexes), and then have the pipeline process what the round accepted, in
``BENCH_PIPELINE_WORKERS`` processes (default 2, started with the Celery application loaded,
as a worker's are), as workers that keep up do. The machine is shared and noisy, so each
round's accept rate is taken against the COPY next to it and its pipeline rate against its
accept rate, and medians are reported. Every accepted event is counted in the table, and
every one processed. The machine's CPU time per event on either path (every process, read
from ``/proc/stat``) is reported too: with the cores busy, each rate is the cores' time over
it, so the two explain the pipeline's rate against the accept path's. One enabled webhook
destination of the benchmark's own receives them (other destinations in the benchmark
database are paused for the run), so each event is validated, stitched, attributed,
consent-tagged and routed to a pending delivery (sending is ``bench/delivery.py``'s
subject). With ``BENCH_COLLECT_SIGN_INS`` set to N (default 0: none), one message in N is a
sign-in instead of a page view: an identify joining a user id and an email to the visitor's
anonymous id, so that links are written and profiles merged (each visitor signs in once;
later sign-ins repeat a stored link; the identity graph starts empty at every run). With
``BENCH_COLLECT_ARRIVALS`` set to N (default 1: every one), one page view in N arrives from
a campaign (UTMs in its URL, so its profile's last touch is written) and the others follow a
link within the site, as the later pages of a visit do. Before each phase the written
tables' planner statistics are refreshed and a checkpoint is taken, so that neither lands
inside a measurement.

Targets: the accept path at least 50% of the COPY rate; the pipeline at least as fast as
the accept path.
"""

from __future__ import annotations

import base64
import contextlib
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

from bench._setup import setup, size

REQUESTS = size("BENCH_COLLECT_REQUESTS", 200, quick=20)
ROUNDS = size("BENCH_COLLECT_ROUNDS", 9, quick=2)
CLIENTS = size("BENCH_COLLECT_CLIENTS", 8, quick=8)
WORKERS = size("BENCH_COLLECT_WORKERS", 2, quick=2)
THREADS = size("BENCH_COLLECT_THREADS", 4, quick=4)
PIPELINE_WORKERS = size("BENCH_PIPELINE_WORKERS", 2, quick=2)
# One message in this many is a sign-in (an identify joining a user id and an email to the
# anonymous id of a visitor seen earlier, whose profile then merges); 0: none.
SIGN_INS = int(os.environ.get("BENCH_COLLECT_SIGN_INS", "0"))
# One page view in this many arrives from a campaign (UTMs in its URL: a marketing arrival,
# written as its profile's last touch); the others follow a link within the site. 1: all.
ARRIVALS = max(1, int(os.environ.get("BENCH_COLLECT_ARRIVALS", "1")))
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
            page = {"url": url}
            if (r * BATCH + i) % ARRIVALS:  # a later page of the visit
                page = {
                    "url": f"https://www.acme.example/p/{i}",
                    "referrer": "https://www.acme.example/",
                }
            # Unique across rounds: with a short random part, two rounds' messages at the
            # same place met now and then (about one run in twenty at 6 hex digits), and the
            # repeat was rightly stored once, which the count below took for a loss.
            message_id = f"b-{r}-{i}-{uuid.uuid4().hex}"
            if SIGN_INS and (r * BATCH + i) % SIGN_INS == 0:
                person = (r * BATCH + i) // SIGN_INS % 5000  # browsed earlier in the round
                messages.append(
                    {
                        "type": "identify",
                        "messageId": message_id,
                        "userId": f"user-{person}",
                        "anonymousId": f"ajs-{person:06d}",
                        "timestamp": "2026-11-30T10:00:00Z",
                        "traits": {"email": f"person{person}@acme.example", "plan": "pro"},
                        "context": {"library": {"name": "bench"}},
                    }
                )
                continue
            messages.append(
                {
                    "type": "track",
                    "event": "Product Viewed",
                    "messageId": message_id,
                    "anonymousId": f"ajs-{person:06d}",
                    "timestamp": "2026-11-30T10:00:00Z",
                    "properties": {"product_id": f"SKU-{i}", "price": 19.9, "category": "shoes"},
                    "context": {
                        "page": page,
                        "userAgent": "Mozilla/5.0",
                        "library": {"name": "bench"},
                    },
                }
            )
        out.append(orjson.dumps({"batch": messages, "sentAt": "2026-11-30T10:00:01Z"}))
    return out


def _serve(port: int) -> subprocess.Popen:
    # The production settings and gunicorn as docker-compose runs them: database connections
    # are kept between requests, the cache and the broker are Redis (the benchmarks' own
    # database, BENCH_REDIS_URL, which ``setup`` put in this process's environment).
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "martech.settings.production",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdef0123456789",
        "MARTECH_SUPPRESSION_KEYS": "bench-only-suppression-key-0123456789abcdef01234",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
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
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            _Wire(port).send(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start within a minute")


class _Wire:
    """A minimal HTTP/1.1 client on one kept-alive socket: sends prepared request bytes and
    reads the status line, the headers it needs and the body."""

    def __init__(self, port: int):
        self.port, self.sock = port, None

    def _open(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def send(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.sock is None:
                self._open()
            try:
                self.sock.sendall(raw)
                return self._answer()
            except (ConnectionError, EOFError):
                self.close()  # the server closed a kept-alive socket: once more on a new one
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        return chunk

    def _answer(self) -> tuple[int, bytes]:
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            buffer += self._recv()
        head, _, body = buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status, length, close = int(lines[0].split()[1]), 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        while len(body) < length:
            body += self._recv()
        if close:
            self.close()
        return status, body


def _requests(port: int, key: str, bodies: list[bytes]) -> list[bytes]:
    auth = base64.b64encode(f"{key}:".encode()).decode()
    head = (
        f"POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic {auth}"
        "\r\nContent-Type: application/json\r\nContent-Length: "
    )
    return [f"{head}{len(body)}\r\n\r\n".encode() + body for body in bodies]


def _drive(port: int, raws: list[bytes]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [raws[i::CLIENTS] for i in range(CLIENTS)]

    def run(chunk):
        wire, mine = _Wire(port), []
        for raw in chunk:
            started = time.perf_counter()
            status, body = wire.send(raw)
            mine.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"{status}: {body[:200]!r}")
        wire.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies


def _machine_busy() -> float | None:
    """CPU seconds the whole machine has spent busy so far (every core, every process: the
    client, gunicorn, the pipeline's processes and PostgreSQL); None where ``/proc/stat`` is
    not to be read."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(t) for t in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user, nice, system, irq, softirq: not idle, iowait, steal (another machine's), nor guest
    # (counted in user already)
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
    return busy / os.sysconf("SC_CLK_TCK")


def _busy_per_event(before: float | None, events: int) -> float | None:
    after = _machine_busy()
    return None if before is None or after is None or not events else (after - before) / events


def _copy_blocks(rows: int, source_id: int, round_: int) -> list[str]:
    """The rows COPY sends (formatted before the clock starts: the baseline is COPY alone)."""
    payload = orjson.dumps(orjson.loads(_batches(1)[0])["batch"][0]).decode().replace("\\", "\\\\")
    pad = "0" * 32  # message ids as long as those sent over HTTP
    return [
        "".join(
            f"{source_id}\tcopy-{round_}-{start + i}-{pad}\t"
            f"track\tProduct Viewed\tajs-{i}\t\t{payload}\t"
            "2026-11-30T10:00:00+00:00\t2026-11-30T10:00:01+00:00\tf\treceived\t[]\t0\t\n"
            for i in range(min(1000, rows - start))
        )
        for start in range(0, rows, 1000)
    ]


def _copy_rate(blocks: list[str]) -> float:
    """Raw COPY into events_event, 1,000 rows a transaction; rows per second. The rows are
    deleted again once timed: they are the baseline's, not the pipeline's."""
    from django.db import connection, transaction

    statement = (
        "COPY events_event (source_id, message_id, type, name, anonymous_id, user_id, payload, "
        "timestamp, received_at, gpc, status, violations, attempts, error) FROM STDIN"
    )
    rows = sum(block.count("\n") for block in blocks)
    started = time.perf_counter()
    for block in blocks:
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(statement) as copy,
        ):
            copy.write(block)
    rate = rows / (time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_event WHERE message_id LIKE 'copy-%%'")
    return rate


def _drain(_: int) -> int:
    from apps.events.pipeline import process_waiting

    total = 0
    while taken := process_waiting(max_batches=1000):
        total += taken
    return total


def _as_worker_process() -> None:
    """What a Celery worker's pool process does before its first task."""
    from celery import signals

    signals.worker_process_init.send(sender=None)


def _pipeline_rate(workers: int) -> tuple[float, int, float | None]:
    """The pipeline in ``workers`` processes at once (as a Celery worker with that
    concurrency runs it): events processed per second until nothing waits, how many, and the
    machine's busy CPU seconds per event meanwhile (see ``_machine_busy``)."""
    import multiprocessing

    from django.db import connections

    from martech.celery import app
    from martech.common import heap

    app.finalize(auto=True)  # loaded before the fork, as a Celery worker's processes have it
    connections.close_all()  # each forked process opens its own
    heap.settle()  # as the worker does before its pool starts (worker_init)
    with multiprocessing.get_context("fork").Pool(workers, _as_worker_process) as pool:
        started, busy = time.perf_counter(), _machine_busy()
        processed = sum(pool.map(_drain, range(workers)))
        elapsed, busy = time.perf_counter() - started, _busy_per_event(busy, processed)
    return processed / elapsed, processed, busy


def _settle(*, vacuum: bool = True) -> None:
    """Refresh the planner's statistics of the tables written (as autovacuum does, which may
    be off on a benchmark machine) and write out what earlier work left dirty (a checkpoint,
    where the role may ask for one), so that neither lands in the middle of a measurement.
    ``vacuum=False``: statistics only, so that the space of rows deleted or updated since is
    not offered to the next round's rows (which are then appended, as in the first round)."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        for table in (
            "events_event",
            "destinations_delivery",
            "identity_profile",
            "identity_identifier",
        ):
            cursor.execute(f"{'VACUUM ' if vacuum else ''}ANALYZE {table}")
        with contextlib.suppress(DatabaseError):
            cursor.execute("CHECKPOINT")
    os.sync()


def _destination(actor):
    """One enabled webhook destination of this benchmark's own; the others paused. Returns
    the ids of those paused, to enable again afterwards."""
    from apps.destinations.models import Destination
    from apps.destinations.services import destination_create
    from apps.tools.models import Tool

    Destination.objects.filter(name="Bench collect").delete()
    paused = list(Destination.objects.filter(is_enabled=True).values_list("pk", flat=True))
    Destination.objects.filter(pk__in=paused).update(is_enabled=False)
    tool = Tool.objects.filter(name="Bench hooks").first() or Tool.objects.create(
        name="Bench hooks", vendor="Bench", category="Automation"
    )
    destination_create(
        actor=actor,
        name="Bench collect",
        adapter="webhook",
        tool=tool,
        is_enabled=True,
        config={"url": "http://127.0.0.1:9/never-called", "requests_per_second": 1000},
        credentials={"signing_secret": "bench-secret"},
    )
    return paused


def _fresh_source():
    """Empty event and identity tables and the benchmark's own source; (actor, source, key)."""
    from django.db import connection

    from apps.accounts.models import User
    from apps.consent.defaults import ensure_default_purposes
    from apps.events.models import Source
    from apps.events.services import source_create

    ensure_default_purposes()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE events_event RESTART IDENTITY CASCADE")
        # Every run meets its visitors for the first time (an earlier run's links would
        # otherwise be found stored, and nothing linked or merged).
        cursor.execute(
            "TRUNCATE identity_link, identity_merge, identity_identifier, identity_profile CASCADE"
        )
    Source.objects.filter(name="Bench").delete()
    actor = User.objects.filter(email="bench@martech.example").first()
    if actor is None:
        actor = User.objects.create_superuser(
            email="bench@martech.example", password=None, full_name="Bench"
        )
    source, key = source_create(actor=actor, name="Bench", rate_limit=100_000)
    return actor, source, key


def _clean() -> None:
    """Take away what a run made (as ``bench/pipeline_profile.py``'s too): the events and the
    identity graph (emptied, as at the start), the destination with its deliveries, the
    source."""
    from django.db import connection

    from apps.destinations.models import Destination
    from apps.events.models import Source

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE events_event RESTART IDENTITY CASCADE")
        cursor.execute(
            "TRUNCATE identity_link, identity_merge, identity_identifier, identity_profile CASCADE"
        )
    Destination.objects.filter(name="Bench collect").delete()
    Source.objects.filter(name="Bench").delete()


def main() -> None:
    setup()

    from apps.destinations.models import Delivery, Destination
    from apps.events.models import Event
    from apps.identity.models import Merge

    actor, source, key = _fresh_source()
    port = _port()
    rounds = [_requests(port, key, _batches(REQUESTS)) for _ in range(ROUNDS)]
    blocks = [_copy_blocks(REQUESTS * BATCH, source.pk, r) for r in range(ROUNDS)]
    paused = _destination(actor)
    _settle()
    server = _serve(port)
    accepted, copied, ratios, latencies, pipelines, kept_up = [], [], [], [], [], []
    accept_cpu: list[float | None] = []
    pipeline_cpu: list[float | None] = []
    merges, deliveries = Merge.objects.count(), 0
    try:
        # warm up every worker and thread (no more than a round sends, under --quick)
        _drive(port, _requests(port, key, _batches(min(100, REQUESTS))))
        _pipeline_rate(PIPELINE_WORKERS)  # and the pipeline (the warm-up's events)
        for raws, copy_blocks in zip(rounds, blocks, strict=True):
            before = Event.objects.filter(source=source).count()
            busy = _machine_busy()
            elapsed, round_latencies = _drive(port, raws)
            accept_cpu.append(_busy_per_event(busy, len(raws) * BATCH))
            stored = Event.objects.filter(source=source).count() - before
            if stored != len(raws) * BATCH:
                raise RuntimeError(f"{len(raws) * BATCH} sent and answered 200, {stored} stored")
            latencies += round_latencies
            accepted.append(stored / elapsed)
            copied.append(_copy_rate(copy_blocks))
            ratios.append(accepted[-1] / copied[-1])
            _settle(vacuum=False)
            rate, processed, busy = _pipeline_rate(PIPELINE_WORKERS)
            pipeline_cpu.append(busy)
            if processed != stored:
                raise RuntimeError(f"{stored} accepted, {processed} processed")
            pipelines.append(rate)
            kept_up.append(rate / accepted[-1])
        deliveries = Delivery.objects.filter(destination__name="Bench collect").count()
        merges = Merge.objects.count() - merges
    finally:
        server.terminate()
        server.wait(timeout=30)
        Destination.objects.filter(pk__in=paused).update(is_enabled=True)
        _clean()
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    median_accept = statistics.median(accepted)
    print(
        f"collect over HTTP: {ROUNDS} rounds of {REQUESTS} requests x {BATCH} messages, "
        f"{CLIENTS} clients, gunicorn {WORKERS} workers x {THREADS} threads"
        + (f", one sign-in in {SIGN_INS} messages" if SIGN_INS else "")
        + (f", one page view in {ARRIVALS} from a campaign" if ARRIVALS > 1 else "")
    )
    print("  accepted and stored  " + "  ".join(f"{r:9,.0f}" for r in accepted) + "  events/s")
    print("  raw COPY, 1,000/tx   " + "  ".join(f"{r:9,.0f}" for r in copied) + "  rows/s")
    print("  accept / COPY        " + "  ".join(f"{r:9.0%}" for r in ratios))
    print(
        f"  median: accepted {median_accept:,.0f} events/s, COPY "
        f"{statistics.median(copied):,.0f} rows/s, accept / COPY "
        f"{statistics.median(ratios):.0%} (target: at least 50%)"
    )
    print(f"  request latency      p50 {p50 * 1000:.1f} ms   p99 {p99 * 1000:.1f} ms")
    print(
        f"  pipeline, {PIPELINE_WORKERS} processes "
        + "  ".join(f"{r:9,.0f}" for r in pipelines)
        + "  events/s"
    )
    print("  pipeline / accepted  " + "  ".join(f"{r:8.2f}x" for r in kept_up))
    print(
        f"  median: pipeline {statistics.median(pipelines):,.0f} events/s "
        f"({deliveries:,} deliveries, {merges:,} profile merges), pipeline / accepted "
        f"{statistics.median(kept_up):.2f}x (target: at least 1x)"
    )
    if None not in accept_cpu + pipeline_cpu:
        on_accept, on_pipeline = statistics.median(accept_cpu), statistics.median(pipeline_cpu)
        print(
            f"  machine CPU per event (every process, all cores; medians): accept "
            f"{on_accept * 1e6:.1f} us, pipeline {on_pipeline * 1e6:.1f} us = "
            f"{on_pipeline / on_accept:.2f}x the accept path's"
        )


if __name__ == "__main__":
    main()
