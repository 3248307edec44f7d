"""Where a pipeline event's time goes, and the pipeline's rate against raw PostgreSQL COPY of
the same rows, on the same machine in the same run.

The events are ``bench/collect_http.py``'s page views, stored by the collection API's own
``store`` (no HTTP, so that a round takes seconds), with one enabled webhook destination of
the benchmark's own (the others in the benchmark database are paused for the run). A warm-up
meets every visitor once, so the rounds measure the steady state: people already known. Each
of ``BENCH_PROFILE_ROUNDS`` rounds (default 3) stores ``BENCH_PROFILE_EVENTS`` events (default
30,000) and

- drains them in this process: wall time, this process's CPU time and its PostgreSQL
  backend's (read from ``/proc`` when the server runs on this machine), per event;
- stores as many again and drains them in ``BENCH_PIPELINE_WORKERS`` processes (default 2,
  as ``bench/collect_http.py`` runs them): events per second;
- times raw COPY of as many rows (transactions of 1,000 into the same table with the same
  indexes), the baseline;
- stores as many again and drains them in this process recording nothing: the floor. The
  two writes that record the processing, each event's outcome (its write-back) and its
  deliveries (routing), are left out: in this process only, the write-back is swapped for
  nothing, the batch reads the round's events in id order instead of claiming waiting ones
  (nothing marks them done), and the webhook is paused. Validation, identity, attribution,
  the profiles' touches and the consent snapshots are done as always. Both writes are part
  of the pipeline; the floor is what the rest costs by itself.

Medians are reported, and the pipeline's rate as a share of COPY's. ``bench/collect_http.py``
reports the accept path's share of the same COPY, and the machine's CPU per event on either
path; the pipeline keeps up with the accept path when its share is at least that one.

With ``BENCH_PG_LOG`` set to the server's log file (on this machine, readable), the
single-process drains run with ``log_min_duration_statement = 0`` for their session, and the
server time of each kind of statement (parse, bind and execute) is printed per event.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import statistics
import time

import orjson

from bench._setup import setup, size
from bench.collect_http import (
    PIPELINE_WORKERS,
    _batches,
    _clean,
    _copy_blocks,
    _copy_rate,
    _destination,
    _fresh_source,
    _pipeline_rate,
    _settle,
)

ROUNDS = size("BENCH_PROFILE_ROUNDS", 3, quick=1)
EVENTS = size("BENCH_PROFILE_EVENTS", 30000, quick=2000)
PG_LOG = os.environ.get("BENCH_PG_LOG", "")
_DURATION = re.compile(r"duration: ([\d.]+) ms\s+(statement|parse|bind|execute)[^:]*: (.*)")


def _store(source, events: int) -> None:
    """``events`` page views stored as the collection API stores them (batches of 100)."""
    from django.utils import timezone

    from apps.events.collect import store

    now = timezone.now()
    for body in _batches(events // 100):
        stored, rejected = store(
            source,
            orjson.loads(body)["batch"],
            kind=None,
            shared={},
            received=now,
            batch_sent=None,
            gpc=False,
        )
        if rejected or stored != 100:
            raise RuntimeError(f"stored {stored} of 100: {rejected[:1]}")


def _backend_seconds(pid: int) -> float | None:
    """CPU time (user and system) of the server process ``pid``; None when not readable."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _drain_here(log: bool = True) -> tuple[int, float, float, float | None]:
    """Process everything waiting in this process: (events, wall, own CPU, backend CPU).
    ``log``: statements go to the server log when ``BENCH_PG_LOG`` is set."""
    from django.db import connection

    from apps.events.pipeline import process_waiting

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
        if PG_LOG and log:
            cursor.execute("SET log_min_duration_statement = 0")
    backend = _backend_seconds(pid)
    wall, cpu, total = time.perf_counter(), time.process_time(), 0
    while taken := process_waiting(max_batches=1000):
        total += taken
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = _backend_seconds(pid)
    if PG_LOG and log:
        with connection.cursor() as cursor:
            cursor.execute("RESET log_min_duration_statement")
    return total, wall, cpu, (after - backend if backend is not None else None)


@contextlib.contextmanager
def _recording_nothing(first_id: int, destinations: list[int]):
    """The pipeline as ``_drain_here`` runs it, less its two recording writes (see the module's
    text): events from ``first_id`` on are read in id order, unclaimed, and left waiting."""
    from apps.destinations.models import Destination
    from apps.events import pipeline, store

    after = [first_id - 1]

    def read_in_order(limit: int):
        batch = store.read_after(after[0], limit, row_type=pipeline.Taken)
        if batch:
            after[0] = batch[-1].pk
        return batch

    take, write_back = pipeline._take, pipeline._write_back
    pipeline._take, pipeline._write_back = read_in_order, lambda events: None
    Destination.objects.filter(pk__in=destinations).update(is_enabled=False)
    try:
        yield
    finally:
        pipeline._take, pipeline._write_back = take, write_back
        Destination.objects.filter(pk__in=destinations).update(is_enabled=True)


def _statements(log: str, start: int) -> dict[str, list]:
    """From the server log after ``start``: statement kind → [count, milliseconds]."""
    out: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
    with open(log, errors="replace") as lines:
        lines.seek(start)
        for line in lines:
            found = _DURATION.search(line)
            if found:
                text = " ".join(found.group(3).split())[:70] or "(unnamed)"
                kind = found.group(2) if found.group(2) != "statement" else "execute"
                entry = out[f"{kind:7s} {text}"]
                entry[0] += 1
                entry[1] += float(found.group(1))
    return out


def main() -> None:
    setup()

    from apps.destinations.models import Destination
    from apps.events.models import Event, EventStatus
    from apps.events.pipeline import process_waiting
    from martech.common import heap

    actor, source, _ = _fresh_source()
    paused = _destination(actor)
    webhook = list(Destination.objects.filter(is_enabled=True).values_list("pk", flat=True))
    heap.settle()  # as a worker process is
    here, backend, wall, pooled, copied, floor = [], [], [], [], [], []
    log_start = os.path.getsize(PG_LOG) if PG_LOG else 0
    try:
        _store(source, 5000)  # every visitor once: the rounds meet people already known
        process_waiting(max_batches=1000)
        for round_ in range(ROUNDS):
            _store(source, EVENTS)
            _settle(vacuum=False)
            if PG_LOG and round_ == 0:
                log_start = os.path.getsize(PG_LOG)
            events, seconds, cpu, server = _drain_here()
            wall.append(seconds / events)
            here.append(cpu / events)
            if server is not None:
                backend.append(server / events)
            _store(source, EVENTS)
            _settle(vacuum=False)
            pooled.append(_pipeline_rate(PIPELINE_WORKERS)[0])
            copied.append(_copy_rate(_copy_blocks(EVENTS, source.pk, round_)))
            first = Event.objects.order_by("-id").values_list("id", flat=True).first() + 1
            _store(source, EVENTS)
            _settle(vacuum=False)
            with _recording_nothing(first, webhook):
                events, _, cpu, server = _drain_here(log=False)
            floor.append((cpu / events, server / events if server is not None else None))
            # Not processed for the record: marked so that no later drain takes them.
            Event.objects.filter(pk__gte=first).update(status=EventStatus.PROCESSED)
    finally:
        Destination.objects.filter(pk__in=paused).update(is_enabled=True)
        _clean()
    ratios = [p / c for p, c in zip(pooled, copied, strict=True)]
    print(f"pipeline profile: {ROUNDS} rounds of {EVENTS:,} page views, each to one webhook")
    print(
        "  one process, per event: wall "
        + "  ".join(f"{w * 1e6:6.1f}" for w in wall)
        + " us; its CPU "
        + "  ".join(f"{c * 1e6:6.1f}" for c in here)
        + " us"
        + (
            "; its server backend's CPU " + "  ".join(f"{b * 1e6:6.1f}" for b in backend) + " us"
            if backend
            else ""
        )
    )
    print(
        f"  {PIPELINE_WORKERS} processes            "
        + "  ".join(f"{r:9,.0f}" for r in pooled)
        + "  events/s"
    )
    print("  raw COPY, 1,000/tx     " + "  ".join(f"{r:9,.0f}" for r in copied) + "  rows/s")
    print("  pipeline / COPY        " + "  ".join(f"{r:9.0%}" for r in ratios))
    floor_cpu = statistics.median(c for c, _ in floor)
    floor_backend = [b for _, b in floor if b is not None]
    if floor_backend and backend:
        whole = statistics.median(h + b for h, b in zip(here, backend, strict=True))
        part = statistics.median(c + b for c, b in floor if b is not None)
        print(
            "  recording nothing (the floor), one process, per event: its CPU "
            f"{floor_cpu * 1e6:.1f} us, backend {statistics.median(floor_backend) * 1e6:.1f} us;"
            f" together {part * 1e6:.1f} us = {part / whole:.0%} of the whole pipeline's "
            f"{whole * 1e6:.1f} us"
        )
    else:
        print(
            f"  recording nothing (the floor), one process: its CPU {floor_cpu * 1e6:.1f} us an "
            "event (the server's CPU is not readable here)"
        )
    median_backend = f", backend {statistics.median(backend) * 1e6:.1f} us" if backend else ""
    print(
        f"  median: one process {statistics.median(wall) * 1e6:.1f} us an event (its CPU "
        f"{statistics.median(here) * 1e6:.1f} us{median_backend}); {PIPELINE_WORKERS} "
        f"processes {statistics.median(pooled):,.0f} events/s = "
        f"{statistics.median(ratios):.0%} of COPY (it keeps up with the accept path when this "
        "is at least the accept / COPY of bench/collect_http.py)"
    )
    if PG_LOG:
        time.sleep(0.5)  # the server's last lines
        found = _statements(PG_LOG, log_start)
        drained = ROUNDS * EVENTS
        print(f"  server time per event by statement (single-process drains, {drained:,} events):")
        for text, (count, ms) in sorted(found.items(), key=lambda kv: -kv[1][1])[:15]:
            print(f"    {ms * 1000 / drained:6.1f} us  {count:6,}x  {text}")
        total = sum(ms for _, ms in found.values())
        print(f"    {total * 1000 / drained:6.1f} us  in all")


if __name__ == "__main__":
    main()
