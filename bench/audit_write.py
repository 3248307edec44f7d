"""The audit writer's cost against raw PostgreSQL on the same machine, in the same run.

Every change in the console writes one audit event in the transaction that makes the change,
so this cost is paid on every write. Measured, five rounds each, medians reported:

- ``audit_record`` with one transaction per event (as a service call does), against a raw
  psycopg INSERT of the same row with one commit per row: the ORM and context overhead;
- ``audit_record`` for many events in one transaction, against PostgreSQL COPY of the same
  rows: the ceiling of bulk loading, for scale.
"""

from __future__ import annotations

import json
import statistics
import time

import django
import psycopg

N = 2000
ROUNDS = 5


def _setup() -> None:
    django.setup()
    from django.conf import settings

    db = settings.DATABASES["default"]
    admin = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    )
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
    if not exists:
        admin.execute(f'CREATE DATABASE "{db["NAME"]}"')
    admin.close()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


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
                "target_repr, changes, metadata, request_id, ip_address) "
                "VALUES (now(), %s, %s, '', '', %s, %s, %s, %s)",
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
                "changes, metadata, request_id, ip_address) FROM STDIN"
            ) as copy,
        ):
            for row in _rows(N):
                copy.write_row(
                    (time.strftime("%Y-%m-%d %H:%M:%S+00"), row[0], row[1], "", "", *row[2:])
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


def main() -> None:
    _setup()
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
