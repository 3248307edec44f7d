"""Reverse ETL: a 1,000,000-row model (PostgreSQL, or a DuckDB file with ``--duckdb`` or
``BENCH_SYNC_WAREHOUSE=duckdb``) synced to a loopback webhook twice, the second time with 1%
of the rows changed.

Reported: rows per second of the first run; the second run's time against the first (the
target: under 10%); the peak memory of the process carrying out each run (target: under
300 MB); and, in the same run on the same machine, two floors: reading the model alone
through a server-side cursor, and the first run's requests posted by a bare HTTP client.
Each run is carried out in its own process, as a Celery worker would; the loopback server
runs in this one. ``BENCH_SYNC_ROWS`` changes the size. What a run made (the sync, its
model, warehouse and destination, the table) is taken away at its end.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import time

from bench._setup import setup, size
from bench.delivery import LoopbackServer

N = size("BENCH_SYNC_ROWS", 1000000, quick=20000)
ROUNDS = size("BENCH_SYNC_ROUNDS", 3, quick=1)  # second runs, each on a fresh 1%
TABLE = "bench_wh_customers"
DUCKDB = "--duckdb" in sys.argv or os.environ.get("BENCH_SYNC_WAREHOUSE", "") == "duckdb"
DUCKDB_FILE = "bench_sync.duckdb"  # under MARTECH_VAR_DIR/warehouses/
MODEL_COLUMNS = "id, email, name, ltv, tier"


READER = "martech_bench_reader"


def _dsn(user: str | None = None) -> str:
    """The console's own role, or ``user``: the warehouse reads as a role that may only read
    the bench table (a superuser is refused on connect)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    user = user or db["USER"]
    return f"postgresql://{user}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _duckdb_path():
    from apps.syncs.warehouses.duckdb import database_file

    return database_file(DUCKDB_FILE)


def _duckdb(statement: str, *, read_only: bool = False) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(_duckdb_path()), read_only=read_only) as conn:
        return conn.execute(statement).fetchall()


def _table() -> None:
    if DUCKDB:
        _duckdb_path().parent.mkdir(parents=True, exist_ok=True)
        _duckdb(
            f"CREATE OR REPLACE TABLE {TABLE} AS SELECT 'c' || g AS id, "  # noqa: S608
            "'person' || g || '@bench.example' AS email, 'Person ' || g AS name, "
            "(g % 5000) AS ltv, (['gold','silver','bronze'])[1 + g % 3] AS tier "
            f"FROM range(1, {N} + 1) AS t(g)"
        )
        return
    import psycopg

    with psycopg.connect(_dsn(), autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(
            f"CREATE TABLE {TABLE} AS SELECT 'c' || g AS id, "  # noqa: S608
            "'person' || g || '@bench.example' AS email, 'Person ' || g AS name, "
            "(g % 5000) AS ltv, (ARRAY['gold','silver','bronze'])[1 + g % 3] AS tier "
            f"FROM generate_series(1, {N}) AS g"
        )
        conn.execute(f"ANALYZE {TABLE}")
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [READER]).fetchone()
        if not exists:
            conn.execute(f"CREATE ROLE {READER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {READER}")
        conn.execute(f"GRANT SELECT ON {TABLE} TO {READER}")


def _clean(*, drop_table: bool = True) -> None:
    """Take away what a run made: the sync (with its runs and row states), its model,
    warehouse and destination, and the model's table. Until the sync goes its destination
    cannot (a protected foreign key), nor can another benchmark's clearing of destinations."""
    import psycopg

    from apps.destinations.models import Destination
    from apps.syncs.models import SqlModel, Sync, Warehouse

    Sync.objects.filter(name="Bench sync").delete()
    SqlModel.objects.filter(name="Bench customers").delete()
    Warehouse.objects.filter(name="Bench warehouse").delete()
    Destination.objects.filter(name="Bench sync receiver").delete()
    if drop_table and DUCKDB:
        path = _duckdb_path()
        for file in (path, path.with_name(path.name + ".wal")):
            file.unlink(missing_ok=True)
    elif drop_table:
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")


def _sync(url: str):
    from apps.accounts.models import User
    from apps.destinations.services import destination_create
    from apps.syncs import services
    from apps.tools.models import Tool

    actor = User.objects.filter(email="bench@martech.example").first()
    if actor is None:
        actor = User.objects.create_superuser(
            email="bench@martech.example", password=None, full_name="Bench"
        )
    _clean(drop_table=False)
    tool = Tool.objects.filter(name="Bench hooks").first() or Tool.objects.create(
        name="Bench hooks", vendor="Bench", category="Automation"
    )
    destination = destination_create(
        actor=actor,
        name="Bench sync receiver",
        adapter="webhook",
        tool=tool,
        is_enabled=True,
        config={"url": url, "requests_per_second": 1000},
        credentials={"signing_secret": "bench-secret"},
    )
    warehouse = services.warehouse_create(
        actor=actor,
        name="Bench warehouse",
        kind="duckdb" if DUCKDB else "postgres",
        credentials={"path": DUCKDB_FILE, "token": ""} if DUCKDB else {"dsn": _dsn(READER)},
        statement_timeout=600,
    )
    model = services.model_create(
        actor=actor,
        name="Bench customers",
        warehouse=warehouse,
        primary_key="id",
        sql=f"SELECT {MODEL_COLUMNS} FROM {TABLE}",  # noqa: S608
    )
    return services.sync_create(
        actor=actor,
        name="Bench sync",
        model=model,
        destination=destination,
        object="contacts",
        subject_column="email",
        subject_type="email",
        mappings=[
            {"from": "name", "to": "full_name"},
            {"from": "ltv", "to": "ltv"},
            {"from": "tier", "to": "tier"},
        ],
    )


def _carry_out(sync_id: int, out) -> None:
    """In a fresh process: run the sync once; report seconds, peak memory and counts."""
    import django

    django.setup()
    from django.utils import timezone

    from apps.syncs import running
    from apps.syncs.models import SyncRun

    now = timezone.now()
    run = SyncRun.objects.create(sync_id=sync_id, mode="upsert", created_at=now, heartbeat_at=now)
    started = time.perf_counter()
    running.execute(run.pk)
    seconds = time.perf_counter() - started
    run.refresh_from_db()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put(
        {
            "seconds": seconds,
            "peak_mb": peak_mb,
            "status": run.status,
            "error": run.error,
            "added": run.added,
            "changed": run.changed,
            "unchanged": run.unchanged,
            "failed": run.failed,
        }
    )


def _run(sync_id: int) -> dict:
    from django.db import connections

    connections.close_all()
    out = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(target=_carry_out, args=(sync_id, out))
    child.start()
    result = out.get()
    child.join()
    return result


def _read_floor() -> float:
    """Seconds to stream the model's rows through a server-side cursor and nothing else."""
    import psycopg

    started = time.perf_counter()
    if DUCKDB:
        import duckdb

        with duckdb.connect(str(_duckdb_path()), read_only=True) as conn:
            conn.execute(f"SELECT {MODEL_COLUMNS} FROM {TABLE}")  # noqa: S608
            while conn.fetchmany(5000):
                pass
        return time.perf_counter() - started
    with psycopg.connect(_dsn()) as conn:
        cursor = conn.cursor(name="floor")
        cursor.itersize = 5000
        cursor.execute(f"SELECT {MODEL_COLUMNS} FROM {TABLE}")  # noqa: S608
        while cursor.fetchmany(5000):
            pass
    return time.perf_counter() - started


def _post_floor(url: str, requests: int) -> float:
    """Seconds for a bare httpx client to POST ``requests`` bodies of 100 rows each."""
    import httpx
    import orjson

    body = orjson.dumps(
        {
            "batch": [
                {
                    "type": "identify",
                    "kind": "profile",
                    "fields": {"full_name": f"Person {i}", "ltv": i, "tier": "gold"},
                }
                for i in range(100)
            ]
        }
    )
    started = time.perf_counter()
    with httpx.Client() as client:
        for _ in range(requests):
            client.post(url, content=body, headers={"Content-Type": "application/json"})
    return time.perf_counter() - started


def main() -> None:
    setup()
    where = "a DuckDB file" if DUCKDB else "PostgreSQL"
    print(f"\nReverse ETL: a {N:,}-row model ({where}) to a loopback webhook, twice")
    _table()
    receiver = LoopbackServer(200)
    sync = _sync(receiver.url)

    first = _run(sync.pk)
    first_requests = receiver.requests
    import psycopg

    seconds = []
    for r in range(ROUNDS):  # each time a different 1% of the rows changes
        change = (
            f"UPDATE {TABLE} SET ltv = ltv + 1 "  # noqa: S608
            f"WHERE CAST(substr(id, 2) AS BIGINT) % 100 = {r}"
        )
        if DUCKDB:
            _duckdb(change)
        else:
            with psycopg.connect(_dsn(), autocommit=True) as conn:
                conn.execute(change)
        before = receiver.requests
        seconds.append(_run(sync.pk))
        second_requests = receiver.requests - before
    second = sorted(seconds, key=lambda x: x["seconds"])[len(seconds) // 2]
    read = _read_floor()
    post = _post_floor(receiver.url, first_requests)
    _clean()

    for name, r in (("first run", first), *(("second run", r) for r in seconds)):
        if r["status"] != "succeeded":
            print(f"  {name} ended {r['status']}: {r['error']}")
    print(
        f"  first run:  {first['seconds']:8.1f} s  {N / first['seconds']:10,.0f} rows/s  "
        f"added {first['added']:,}  requests {first_requests:,}  "
        f"peak {first['peak_mb']:.0f} MB"
    )
    listed = ", ".join(f"{r['seconds']:.1f} s" for r in seconds)
    print(
        f"  second run: {second['seconds']:8.1f} s  (median of {ROUNDS}: {listed}; each with "
        f"1% of the rows changed)  changed {second['changed']:,}  "
        f"unchanged {second['unchanged']:,}  requests {second_requests:,}  "
        f"peak {max(r['peak_mb'] for r in seconds):.0f} MB"
    )
    print(
        f"  floors in this run: reading the model alone {read:.1f} s; "
        f"the first run's {first_requests:,} requests from a bare client {post:.1f} s"
    )
    ratio = second["seconds"] / first["seconds"]
    peak = max(first["peak_mb"], *(r["peak_mb"] for r in seconds))
    print(
        f"  second run / first run: {ratio:.1%} (target under 10%); "
        f"peak memory {peak:.0f} MB (target under 300 MB)"
    )
    print(
        f"  first run / (read + post floors): "
        f"{first['seconds'] / (read + post):.2f}x; second run / reading the model: "
        f"{second['seconds'] / read:.2f}x"
    )


if __name__ == "__main__":
    main()
