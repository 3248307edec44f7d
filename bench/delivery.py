"""Delivery to two loopback destinations, one healthy and one answering 503, against a plain
HTTP client posting the same requests to the same loopback server, and against the pipeline
processing as many events, in the same run.

``BENCH_DELIVERY_EVENTS`` deliveries (default 100,000) wait for each destination, both signed
webhooks; as routed deliveries do, each reads its message from its stored event when sent.
Reported: the baseline (the very request bodies the adapter builds, POSTed with
httpx and nothing else); the console delivering to the healthy destination alone; and the
same while the failing destination is retried ten times a second in a second process (its
backoff would wait 30 seconds and more). Senders run in their own processes, as
Celery workers do; the loopback servers run in this one. Each round also stores as many page
views as ``bench/pipeline_profile.py`` does and processes them in ``BENCH_PIPELINE_WORKERS``
processes (default 2), each routed to one webhook of its own: the rate one destination's
deliveries must keep up with.

Targets: one destination's delivery rate at least the pipeline's and at least 10% of the
plain client's; the failing destination slows the healthy one by under 10%.
"""

from __future__ import annotations

import multiprocessing
import socket
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench._setup import setup, size
from bench.collect_http import (
    PIPELINE_WORKERS,
    _destination,
    _fresh_source,
    _pipeline_rate,
    _settle,
)
from bench.collect_http import _clean as _clean_pipeline
from bench.pipeline_profile import _store

N = size("BENCH_DELIVERY_EVENTS", 100000, quick=2000)
ROUNDS = size("BENCH_DELIVERY_ROUNDS", 3, quick=1)
PAUSE = 0.1  # seconds between retries of the failing destination
NAMES = ("Bench healthy", "Bench failing")  # the destinations'; the source is "Bench delivery"


class LoopbackServer:
    """A keep-alive HTTP/1.1 server on a loopback port that answers every POST with
    ``status`` and counts them (``requests``)."""

    def __init__(self, status: int = 200):
        answer = status
        server = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests += 1
                body = b'{"ok":true}' if answer < 300 else b'{"message":"Service Unavailable"}'
                self.send_response(answer)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/martech"


def _message(i: int) -> dict:
    return {
        "type": "track",
        "event": "Order Completed",
        "messageId": f"bench-{i}",
        "anonymousId": f"ajs-{i % 5000:05d}",
        "timestamp": "2026-11-30T10:00:00+00:00",
        "properties": {"order_id": f"A-{i}", "revenue": 49.9, "currency": "EUR"},
        "context": {"library": {"name": "bench"}},
    }


def _events() -> list[int]:
    """The stored events the deliveries send: as routed ones do, each delivery reads its
    message from its event when it is sent."""
    from django.db import connection
    from django.utils import timezone

    from apps.events.models import Event, Source

    source = Source.objects.filter(name="Bench delivery").first()
    if source is None:
        source = Source.objects.create(name="Bench delivery", rate_limit=100_000)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_event WHERE source_id = %s", [source.pk])
    now = timezone.now()
    made = Event.objects.bulk_create(
        (
            Event(
                source=source,
                message_id=f"bench-{i}",
                type="track",
                name="Order Completed",
                anonymous_id=f"ajs-{i % 5000:05d}",
                payload=_message(i),
                timestamp=now,
                received_at=now,
                status="processed",
                processed_at=now,
            )
            for i in range(N)
        ),
        batch_size=5000,
    )
    return [e.pk for e in made]


def _fill(destination, events: list[int]) -> None:
    from django.db import connection
    from django.utils import timezone

    from apps.destinations.models import Delivery

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM destinations_delivery WHERE destination_id = %s", [destination.pk]
        )
    now = timezone.now()
    Delivery.objects.bulk_create(
        (
            Delivery(
                destination=destination,
                event_id=event,
                message_id=f"bench-{i}",
                event_name="Order Completed",
                subject=f"anonymous_id:ajs-{i % 5000:05d}",
                status="pending",
                next_attempt_at=now,
                payload={"kind": "event", "identifiers": {"anonymous_id": f"ajs-{i % 5000:05d}"}},
            )
            for i, event in enumerate(events)
        ),
        batch_size=5000,
    )


def _destinations(healthy_url: str, failing_url: str):
    from apps.accounts.models import User
    from apps.destinations.models import Destination
    from apps.destinations.services import destination_create
    from apps.tools.models import Tool

    actor = User.objects.filter(email="bench@martech.example").first()
    if actor is None:
        actor = User.objects.create_superuser(
            email="bench@martech.example", password=None, full_name="Bench"
        )
    Destination.objects.filter(name__in=NAMES).delete()
    tool = Tool.objects.filter(name="Bench hooks").first() or Tool.objects.create(
        name="Bench hooks", vendor="Bench", category="Automation"
    )
    made = []
    for name, url in zip(NAMES, (healthy_url, failing_url), strict=True):
        made.append(
            destination_create(
                actor=actor,
                name=name,
                adapter="webhook",
                tool=tool,
                is_enabled=True,
                config={"url": url, "requests_per_second": 1000},
                credentials={"signing_secret": "bench-secret"},
            )
        )
    return made


def _baseline(url: str, bodies: list[tuple[dict, bytes]], results) -> None:
    import httpx

    client = httpx.Client(timeout=30)
    started = time.perf_counter()
    for headers, body in bodies:
        client.post(url, headers=headers, content=body).raise_for_status()
    results.put(time.perf_counter() - started)


def _drain(pk: int, results) -> None:
    from django.db import connections

    from apps.destinations.delivery import deliver
    from apps.destinations.models import Delivery, Destination

    connections.close_all()
    destination = Destination.objects.get(pk=pk)
    started = time.perf_counter()
    while Delivery.objects.filter(destination=destination, status="pending").exists():
        deliver(destination, budget_seconds=3600)
    results.put(time.perf_counter() - started)


def _hammer(pk: int, stop) -> None:
    """Retry the failing destination every ``PAUSE`` seconds, far more often than its backoff
    (30 s and growing) would."""
    from django.db import connections
    from django.utils import timezone

    from apps.destinations.delivery import deliver
    from apps.destinations.models import Delivery, Destination

    connections.close_all()
    destination = Destination.objects.get(pk=pk)
    while not stop.wait(PAUSE):
        deliver(destination, budget_seconds=5)
        Delivery.objects.filter(destination=destination, status="retrying").update(
            next_attempt_at=timezone.now()
        )


def _pipeline(source, destinations: list[int]) -> float:
    """The pipeline's rate (events/s) over ``N`` page views stored now, in
    ``PIPELINE_WORKERS`` processes, with the delivery destinations ``destinations`` paused
    meanwhile (the pipeline routes to its own webhook only); its deliveries go afterwards."""
    from django.db import connection

    from apps.destinations.models import Destination

    Destination.objects.filter(pk__in=destinations).update(is_enabled=False)
    try:
        _store(source, N)
        _settle(vacuum=False)
        rate = _pipeline_rate(PIPELINE_WORKERS)[0]
    finally:
        Destination.objects.filter(pk__in=destinations).update(is_enabled=True)
    collect = list(Destination.objects.filter(name="Bench collect").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM destinations_delivery WHERE destination_id = ANY(%s)", [collect]
        )
    return rate


def _clean() -> None:
    """Take away what a run made: the deliveries, the two destinations, the events and their
    source. Deleted in SQL first: hundreds of thousands of rows, which the ORM would read."""
    from django.db import connection

    from apps.destinations.models import Destination
    from apps.events.models import Source

    destinations = list(Destination.objects.filter(name__in=NAMES).values_list("pk", flat=True))
    sources = list(Source.objects.filter(name="Bench delivery").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM destinations_delivery WHERE destination_id = ANY(%s)", [destinations]
        )
        cursor.execute("DELETE FROM events_event WHERE source_id = ANY(%s)", [sources])
    Destination.objects.filter(pk__in=destinations).delete()
    Source.objects.filter(pk__in=sources).delete()


def main() -> None:
    setup()
    from django.db import connections
    from django.db.models import Max

    from apps.destinations.adapters import adapter_for
    from apps.destinations.delivery import items_of
    from apps.destinations.models import Delivery, Destination
    from apps.events.pipeline import process_waiting
    from martech.common import heap

    # The pipeline's own source and webhook (the other destinations paused), on empty event
    # and identity tables; a warm-up meets every visitor once, as in bench/pipeline_profile.py.
    actor, source, _ = _fresh_source()
    paused = _destination(actor)
    heap.settle()
    _store(source, 5000)
    process_waiting(max_batches=1000)
    healthy_server, failing_server = LoopbackServer(200), LoopbackServer(503)
    healthy, failing = _destinations(healthy_server.url, failing_server.url)
    events = _events()
    _fill(healthy, events)
    adapter = adapter_for("webhook")
    rows = list(Delivery.objects.filter(destination=healthy).order_by("id"))
    bodies = []
    for start in range(0, len(rows), adapter.batch_size):
        for request in adapter.requests(
            items_of(rows[start : start + adapter.batch_size], healthy),
            healthy.config,
            {"signing_secret": "bench-secret"},
            "",
        ):
            bodies.append((request.headers, request.body))
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    base, alone, beside, pipeline = [], [], [], []
    for _ in range(ROUNDS):
        pipeline.append(N / _pipeline(source, [healthy.pk, failing.pk]))
        connections.close_all()
        child = ctx.Process(target=_baseline, args=(healthy_server.url, bodies, results))
        child.start()
        base.append(results.get())
        child.join()

        _fill(healthy, events)
        connections.close_all()
        child = ctx.Process(target=_drain, args=(healthy.pk, results))
        child.start()
        alone.append(results.get())
        child.join()

        _fill(healthy, events)
        _fill(failing, events)
        connections.close_all()
        stop = ctx.Event()
        noisy = ctx.Process(target=_hammer, args=(failing.pk, stop))
        noisy.start()
        child = ctx.Process(target=_drain, args=(healthy.pk, results))
        child.start()
        beside.append(results.get())
        child.join()
        stop.set()
        noisy.join(timeout=60)
    tried = Delivery.objects.filter(destination=failing).aggregate(n=Max("attempts"))["n"] or 0
    _clean()
    Destination.objects.filter(pk__in=paused).update(is_enabled=True)
    _clean_pipeline()
    b, a, s = statistics.median(base), statistics.median(alone), statistics.median(beside)
    p = statistics.median(pipeline)
    print(
        f"delivery: {N:,} events to a healthy and a failing (503) loopback webhook, "
        f"{ROUNDS} rounds, medians"
    )
    print(f"  httpx, same requests      {b:8.2f} s  {N / b:10,.0f} events/s")
    print(
        f"  console, healthy alone    {a:8.2f} s  {N / a:10,.0f} events/s  "
        f"({b / a:.0%} of the baseline; target: at least 10%)"
    )
    print(
        f"  console, beside a 503 one {s:8.2f} s  {N / s:10,.0f} events/s  "
        f"(meanwhile the 503 one's first batch was tried {tried:,} "
        "times)"
    )
    print(
        f"  pipeline, {PIPELINE_WORKERS} processes    {p:8.2f} s  {N / p:10,.0f} events/s  "
        f"(delivery alone / pipeline: {p / a:.0%}; target: at least 100%)"
    )
    print(f"  slowed by                 {(s - a) / a:8.1%}  (target: under 10%)")
    print(
        "  per round, events/s: alone "
        + "  ".join(f"{N / x:,.0f}" for x in alone)
        + "; beside "
        + "  ".join(f"{N / x:,.0f}" for x in beside)
        + "; pipeline "
        + "  ".join(f"{N / x:,.0f}" for x in pipeline)
        + "; httpx "
        + "  ".join(f"{N / x:,.0f}" for x in base)
    )


if __name__ == "__main__":
    main()
