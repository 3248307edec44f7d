"""Events landing in a warehouse: 1,000,000 processed events loaded through the console
(``loader.load``: read in id order from the console's database, consent and suppression
decided, laid out in Segment's tables, written by the engine) into a PostgreSQL database
of their own and into a DuckDB file, against the engine's own bulk load of the same rows
into the same tables in the same run: binary COPY (PostgreSQL) and the appender (DuckDB).

The events are a believable mix (tracks of a few events with properties, pages, identifies,
each with a context), stored as processed through the events store, not over HTTP. Each
load and each bulk load runs in a process of its own, as a Celery worker would, one after
the other (console, bulk, console, bulk: ``BENCH_WAREHOUSE_ROUNDS`` rounds, each into
empty tables). The bulk load takes the rows the console laid out, read back from its tables
in batches of the loader's size (reading them is not timed), and writes them batch by batch
into tables made as the console makes them, each batch committed.

Reported per warehouse: rows per second of both (medians over the rounds), the console's
share of the bulk load's rate (the target: at least 50%), and the peak memory of the
process carrying out each; and, as a floor no layout goes under, the time the console takes
only to read the events from its database with their messages parsed, against the bulk
load's. ``BENCH_WAREHOUSE_EVENTS`` changes the size; ``BENCH_WAREHOUSE_KINDS=duckdb`` (or
``postgres``) measures one warehouse only. What a run made
(events, source, destinations, warehouses, the PostgreSQL database, the DuckDB file) is
taken away at its end.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import statistics
import time
from contextlib import contextmanager

from bench._setup import setup, size

N = size("BENCH_WAREHOUSE_EVENTS", 1000000, quick=5000)
ROUNDS = size("BENCH_WAREHOUSE_ROUNDS", 3, quick=1)
# the warehouses measured, of "postgres" and "duckdb"
KINDS = os.environ.get("BENCH_WAREHOUSE_KINDS", "postgres,duckdb").split(",")
SCHEMA = "martech_events"
BULK = "bench_bulk"  # the bulk load's own tables, made as the console's are
LOADER = "martech_bench_loader"  # owns the PostgreSQL warehouse; no superuser
DUCKDB_FILE = "bench_events.duckdb"  # under MARTECH_VAR_DIR/warehouses/
NAME = "Bench warehouse load"
EVENTS = ("Order Completed", "Product Viewed", "Product Added", "Checkout Started", "Signed Up")


# -- the events ---------------------------------------------------------------------------


def _message(i: int, when: str) -> dict:
    """Event ``i``: four tracks in five, then a page or an identify, each with a context."""
    who = f"ajs-{i % 50_000:05d}"
    message = {
        "messageId": f"bench-wh-{i}",
        "anonymousId": who,
        "timestamp": when,
        "sentAt": when,
        "context": {
            "ip": f"10.0.{i % 250}.{i % 200}",
            "locale": "en-GB",
            "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Safari/605.1.15",
            "library": {"name": "analytics.js", "version": "5.2.0"},
            "page": {"path": "/shop", "url": "https://shop.example/shop", "referrer": ""},
            "campaign": {"source": "newsletter", "medium": "email", "name": "winter"},
        },
    }
    if i % 10 < 8:
        event = EVENTS[i % len(EVENTS)]
        message.update(
            type="track",
            event=event,
            properties={
                "product_id": f"p-{i % 977}",
                "sku": f"SKU-{i % 977:04d}",
                "price": 19.5 + i % 40,
                "quantity": 1 + i % 3,
                "currency": "EUR",
                "category": ("shoes", "shirts", "bags")[i % 3],
                "in_stock": i % 7 != 0,
            },
        )
    elif i % 10 == 8:
        message.update(
            type="page", name="Shop", properties={"path": "/shop", "title": "Shop", "search": ""}
        )
    else:
        message.update(
            type="identify",
            userId=f"user-{i % 50_000}",
            traits={
                "email": f"person{i % 50_000}@shop.example",
                "plan": ("free", "pro", "team")[i % 3],
                "logins": i % 90,
            },
        )
    return message


def _events(source) -> None:
    """``N`` processed events of ``source``, stored through the events store in batches."""
    import datetime as dt

    from django.db import connection

    from apps.events import store

    now = dt.datetime.now(dt.UTC)
    when = now.isoformat()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_event WHERE source_id = %s", [source.pk])
    for start in range(0, N, 20_000):
        rows = []
        for i in range(start, min(N, start + 20_000)):
            message = _message(i, when)
            rows.append(
                store.NewEvent(
                    source_id=source.pk,
                    message_id=message["messageId"],
                    type=message["type"],
                    name=message.get("event") or message.get("name") or "",
                    anonymous_id=message["anonymousId"],
                    user_id=message.get("userId", ""),
                    payload=message,
                    timestamp=now,
                    received_at=now,
                    gpc=False,
                )
            )
        store.insert(rows)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_event SET status = 'processed', processed_at = now() "
            "WHERE source_id = %s",
            [source.pk],
        )
        cursor.execute("ANALYZE events_event")


# -- the warehouses -----------------------------------------------------------------------


def _server(dbname: str, user: str | None = None) -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"postgresql://{user or db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{dbname}"


def _pg_name() -> str:
    from django.conf import settings

    return f"{settings.DATABASES['default']['NAME']}_warehouse"[:63]


def _pg_database(*, drop_only: bool = False) -> None:
    """The PostgreSQL warehouse: a database of its own, owned by the loading role."""
    import psycopg

    with psycopg.connect(_server("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{_pg_name()}" WITH (FORCE)')
        if drop_only:
            return
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [LOADER]).fetchone():
            admin.execute(f"CREATE ROLE {LOADER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
        admin.execute(f'CREATE DATABASE "{_pg_name()}" OWNER {LOADER}')


def _duckdb_path():
    from apps.syncs.warehouses.duckdb import database_file

    return database_file(DUCKDB_FILE)


def _empty(kind: str) -> None:
    """Both sets of tables gone, and the destination's loads forgotten: the next round loads
    every event again into empty tables."""
    from apps.destinations.models import WarehouseLoad

    WarehouseLoad.objects.filter(destination__name=f"{NAME} ({kind})").delete()
    if kind == "postgres":
        import psycopg

        with psycopg.connect(_server(_pg_name(), LOADER), autocommit=True) as conn:
            for schema in (SCHEMA, BULK):
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    else:
        path = _duckdb_path()
        for file in (path, path.with_name(path.name + ".wal")):
            file.unlink(missing_ok=True)


def _clean() -> None:
    from django.db import connection

    from apps.destinations.models import Destination
    from apps.events.models import Source
    from apps.syncs.models import Warehouse

    for kind in ("postgres", "duckdb"):
        destination = Destination.objects.filter(name=f"{NAME} ({kind})").first()
        if destination is not None:
            destination.delete()  # with its loads
    Warehouse.objects.filter(name__startswith=NAME).delete()
    source = Source.objects.filter(name=NAME).first()
    if source is not None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM events_event WHERE source_id = %s", [source.pk])
        source.delete()
    _pg_database(drop_only=True)
    path = _duckdb_path()
    for file in (path, path.with_name(path.name + ".wal")):
        file.unlink(missing_ok=True)


def _setup_destinations() -> dict:
    """The source, both warehouses and a destination loading each; kind -> destination id."""
    from apps.accounts.models import User
    from apps.destinations.services import destination_create
    from apps.events.models import Source
    from apps.syncs.services import warehouse_create
    from apps.tools.models import Tool

    actor = User.objects.filter(email="bench@martech.example").first()
    if actor is None:
        actor = User.objects.create_superuser(
            email="bench@martech.example", password=None, full_name="Bench"
        )
    _clean()
    _pg_database()
    source = Source.objects.create(name=NAME, rate_limit=100_000)
    _events(source)
    tool = Tool.objects.filter(name="Bench warehouse").first() or Tool.objects.create(
        name="Bench warehouse", vendor="Bench", category="Analytics"
    )
    credentials = {
        "postgres": {"dsn": _server(_pg_name(), LOADER)},
        "duckdb": {"path": DUCKDB_FILE, "token": ""},
    }
    out = {}
    for kind, given in credentials.items():
        warehouse = warehouse_create(
            actor=actor, name=f"{NAME} {kind}", kind=kind, credentials=given
        )
        out[kind] = destination_create(
            actor=actor,
            name=f"{NAME} ({kind})",
            adapter="warehouse",
            tool=tool,
            environment="production",
            config={"warehouse": str(warehouse.pk), "schema": SCHEMA},
            sends="both",
            is_enabled=True,
        ).pk
    return out


# -- the runs, each in a process of its own -------------------------------------------------


def _console(destination_id: int) -> dict:
    from apps.destinations.models import Destination
    from apps.destinations.warehouse import loader

    destination = Destination.objects.get(pk=destination_id)
    started = time.perf_counter()
    record = loader.load(destination, max_batches=N // loader.BATCH + 2)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": sum(record.rows.values()),
        "events": record.loaded,
        "status": record.status,
        "error": record.error,
        "tables": len(record.rows),
    }


def _reading(destination_id: int) -> dict:
    """The part of a load no layout avoids: reading the events from the console's database,
    their messages parsed (``settled_events``, batch by batch as the loader reads them)."""
    from apps.destinations.warehouse import loader
    from apps.events.selectors import settled_events

    started, after, events = time.perf_counter(), 0, 0
    while batch := settled_events(after, loader.BATCH, subjects=False):
        after, events = batch[-1].id, events + len(batch)
    return {"seconds": time.perf_counter() - started, "rows": events, "status": "loaded"}


def _bulk(kind: str, destination_id: int) -> dict:
    """The console's rows, read back batch by batch (untimed), written by the engine's own
    bulk load into identical tables (timed, each batch committed)."""
    from apps.destinations.models import Destination
    from apps.destinations.warehouse import loader, ownership
    from apps.syncs.models import Warehouse
    from apps.syncs.selectors import warehouse_engine
    from apps.syncs.warehouses.base import Column, Table

    destination = Destination.objects.get(pk=destination_id)
    warehouse = Warehouse.objects.get(pk=int(destination.config["warehouse"]))
    engine, credentials = warehouse_engine(warehouse)
    with engine.writing(credentials) as conn:
        tables = {  # the events' tables, not the one marking the schema as the destination's
            name: columns
            for name, columns in engine.tables(conn, SCHEMA).items()
            if not ownership.is_marker(name)
        }
        for name, columns in tables.items():
            engine.ensure(
                conn,
                Table(BULK, name, tuple(Column(c, t) for c, t in columns.items()), key="id"),
            )
    seconds, rows = 0.0, 0
    with _bulk_connection(kind, credentials) as conn:
        for name, columns in tables.items():
            for chunk in _read_back(kind, credentials, conn, name, columns, loader.BATCH):
                started = time.perf_counter()
                if kind == "postgres":
                    _copy(conn, name, columns, chunk)
                else:
                    _append(conn, name, chunk)
                seconds += time.perf_counter() - started
                rows += len(chunk)
    return {"seconds": seconds, "rows": rows, "status": "loaded", "error": ""}


@contextmanager
def _bulk_connection(kind, credentials):
    """One connection for the whole bulk load (a batch is committed at a time)."""
    if kind == "postgres":
        import psycopg
        from psycopg.types.json import set_json_dumps

        with psycopg.connect(credentials["dsn"]) as conn:
            set_json_dumps(str, context=conn)
            yield conn
        return
    import duckdb

    with duckdb.connect(str(_duckdb_path())) as conn:
        yield conn


def _read_back(kind, credentials, conn, name, columns, batch):
    """The rows of the console's table ``name``, ``batch`` at a time (JSON as its text), read
    through a connection of their own (DuckDB: a cursor of the bulk load's connection, as
    one process opens a file once)."""
    select = ", ".join(f'"{c}"::text' if t == "json" else f'"{c}"' for c, t in columns.items())
    statement = f'SELECT {select} FROM {SCHEMA}."{name}"'  # noqa: S608
    if kind == "postgres":
        import psycopg

        with psycopg.connect(credentials["dsn"]) as reader:
            cursor = reader.cursor(name="bench_read_back")
            cursor.execute(statement)
            while chunk := cursor.fetchmany(batch):
                yield chunk
        return
    reader = conn.cursor()
    try:
        reader.execute(statement)
        while chunk := reader.fetchmany(batch):
            yield chunk
    finally:
        reader.close()


def _copy(conn, name, columns, rows) -> None:
    """Binary COPY of ``rows`` into the bulk load's table, committed."""
    from apps.syncs.warehouses.postgres import PG_TYPES

    names = ", ".join(f'"{c}"' for c in columns)
    with conn.cursor().copy(f'COPY {BULK}."{name}" ({names}) FROM STDIN (FORMAT BINARY)') as cp:
        cp.set_types([PG_TYPES[t][1] for t in columns.values()])
        for row in rows:
            cp.write_row(row)
    conn.commit()


def _append(conn, name, rows) -> None:
    """DuckDB's appender, committed."""
    conn.begin()
    with conn.appender(f"{BULK}.{name}") as appender:
        appender.append_rows(rows)
    conn.commit()


def _in_child(target, *args) -> dict:
    """``target(*args)`` in a fresh process, with its peak memory."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    out = context.Queue()

    def run():
        import django

        django.setup()
        try:
            result = target(*args)
        except Exception as exc:  # reported by the parent, which waits for an answer
            result = {"status": "crashed", "error": repr(exc), "seconds": 0, "rows": 0}
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out.put(result)

    child = context.Process(target=run)
    child.start()
    result = out.get()
    child.join()
    return result


def main() -> None:
    setup()
    print(
        f"\nWarehouse loads: {N:,} events through the console into PostgreSQL and DuckDB, "
        "against the engine's own bulk load"
    )
    started = time.perf_counter()
    destinations = _setup_destinations()
    print(f"  {N:,} processed events stored in {time.perf_counter() - started:.1f} s")
    failed = False
    reading = [_in_child(_reading, 0)["seconds"] for _ in range(ROUNDS)]
    print(
        f"  reading the {N:,} events alone (from the console's database, parsed): "
        f"{statistics.median(reading):.1f} s (median of {ROUNDS})"
    )
    for kind, destination_id in destinations.items():
        if kind not in KINDS:
            continue
        console, bulk = [], []
        for _ in range(ROUNDS):
            _empty(kind)
            console.append(_in_child(_console, destination_id))
            bulk.append(_in_child(_bulk, kind, destination_id))
        for run in console + bulk:
            if run["status"] != "loaded":
                print(f"  {kind}: a load ended {run['status']}: {run['error']}")
                failed = True
        if failed:
            continue
        rate = statistics.median(r["rows"] / r["seconds"] for r in console)
        floor = statistics.median(r["rows"] / r["seconds"] for r in bulk)
        listed = ", ".join(f"{r['seconds']:.1f} s" for r in console)
        print(
            f"  {kind}: console {rate:10,.0f} rows/s ({console[0]['rows']:,} rows in "
            f"{console[0]['tables']} tables from {console[0]['events']:,} events; {listed}) "
            f"peak {max(r['peak_mb'] for r in console):.0f} MB"
        )
        listed = ", ".join(f"{r['seconds']:.1f} s" for r in bulk)
        print(
            f"  {kind}: bulk    {floor:10,.0f} rows/s ({bulk[0]['rows']:,} rows; {listed}) "
            f"peak {max(r['peak_mb'] for r in bulk):.0f} MB"
        )
        ratios = [
            c["seconds"] and (c["rows"] / c["seconds"]) / (b["rows"] / b["seconds"])
            for c, b in zip(console, bulk, strict=True)
        ]
        print(
            f"  {kind}: console / bulk load: {statistics.median(ratios):.0%} (median of "
            f"{ROUNDS}: {', '.join(f'{r:.0%}' for r in ratios)}; target at least 50%)"
        )
        bulk_seconds = statistics.median(r["seconds"] for r in bulk)
        print(
            f"  {kind}: reading the events alone takes "
            f"{statistics.median(reading) / bulk_seconds:.0%} of the bulk load's time"
        )
    _clean()


if __name__ == "__main__":
    main()
