"""The audit writer's cost against raw PostgreSQL on the same machine, in the same run.

Every change in the console writes one audit event in the transaction that makes the change,
so this cost is paid on every write. Measured in ``BENCH_AUDIT_ROUNDS`` rounds (default 5) of
``BENCH_AUDIT_EVENTS`` events (default 2,000) each, medians reported:

- ``audit_record`` with one transaction per event (as a service call does), against a raw
  psycopg INSERT of the same row with one commit per row: the ORM and context overhead;
- ``audit_record`` for many events in one transaction, against PostgreSQL COPY of the same
  rows: the ceiling of bulk loading, for scale.

The audit log is emptied afterwards.
"""

from __future__ import annotations

import json
import statistics
import time

import psycopg

from bench._setup import setup, size

N = size("BENCH_AUDIT_EVENTS", 2000, quick=200)
ROUNDS = size("BENCH_AUDIT_ROUNDS", 5, quick=2)


def _rows(n: int):
    return [
        (
            "system",
            "bench.thing.updated",
            json.dumps({"n": {"before": i, "after": i + 1}}),
            "{}",
            "bench-request",
            "127.0.0.1",
        )
        for i in range(n)
    ]


def _raw_insert_per_commit(dsn: str) -> float:
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        for row in _rows(N):
            conn.execute(
                "INSERT INTO audit_auditevent (occurred_at, actor_label, action, target_id, "
                "target_repr, changes, metadata, request_id, ip_address, client_request_id) "
                "VALUES (now(), %s, %s, '', '', %s, %s, %s, %s, '')",
                row,
            )
            conn.commit()
        return time.perf_counter() - started


def _raw_copy(dsn: str) -> float:
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY audit_auditevent (occurred_at, actor_label, action, target_id, target_repr, "
                "changes, metadata, request_id, ip_address, client_request_id) FROM STDIN"
            ) as copy,
        ):
            for row in _rows(N):
                copy.write_row(
                    (time.strftime("%Y-%m-%d %H:%M:%S+00"), row[0], row[1], "", "", *row[2:], "")
                )
        conn.commit()
        return time.perf_counter() - started


def _audit_per_transaction() -> float:
    from django.db import transaction

    from apps.audit.services import audit_record
    from martech.common import context

    with context.acting(system_actor="bench", request_id="bench-request"):
        started = time.perf_counter()
        for i in range(N):
            with transaction.atomic():
                audit_record(action="bench.thing.updated", before={"n": i}, after={"n": i + 1})
        return time.perf_counter() - started


def _audit_one_transaction() -> float:
    from django.db import transaction

    from apps.audit.services import audit_record
    from martech.common import context

    with context.acting(system_actor="bench", request_id="bench-request"):
        started = time.perf_counter()
        with transaction.atomic():
            for i in range(N):
                audit_record(action="bench.thing.updated", before={"n": i}, after={"n": i + 1})
        return time.perf_counter() - started


def _clear() -> None:
    """Empty the audit log (the benchmarks' database is theirs): the next run writes into the
    same empty table, not one grown by every run before it. The test settings let the session
    TRUNCATE the append-only table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")


def main() -> None:
    setup()
    from django.conf import settings

    db = settings.DATABASES["default"]
    dsn = f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname={db['NAME']}"
    timings: dict[str, list[float]] = {k: [] for k in ("raw", "audit", "copy", "audit_bulk")}
    for _ in range(ROUNDS):
        # Interleave the measurements so that machine noise hits them alike.
        timings["raw"].append(_raw_insert_per_commit(dsn))
        timings["audit"].append(_audit_per_transaction())
        timings["copy"].append(_raw_copy(dsn))
        timings["audit_bulk"].append(_audit_one_transaction())
    med = {k: statistics.median(v) for k, v in timings.items()}
    rate = {k: N / v for k, v in med.items()}
    print(f"audit_write: {N} events x {ROUNDS} rounds, medians (events/s)")
    print(f"  raw INSERT, commit per row      {rate['raw']:>10,.0f}")
    print(
        f"  audit_record, tx per event      {rate['audit']:>10,.0f}  "
        f"= {med['raw'] / med['audit']:.2f}x raw INSERT"
    )
    print(f"  COPY, one transaction           {rate['copy']:>10,.0f}")
    print(
        f"  audit_record, one transaction   {rate['audit_bulk']:>10,.0f}  "
        f"= {med['copy'] / med['audit_bulk']:.2f}x COPY"
    )
    _clear()


if __name__ == "__main__":
    main()
