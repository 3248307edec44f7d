"""Demo reverse ETL: the console's own database as the warehouse, two models, and two syncs:
customers to Braze (production, its first run held for approval after a real dry run) and
known emails to the data team's webhook (sandbox, mirrored hourly, with a week of runs)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from apps.access.demo import grant_demo_capabilities
from apps.accounts.models import User
from apps.destinations.models import Destination
from apps.destinations.outbound import Outbound, Result, Verdict

from . import running, services
from .engine.run import Runner
from .models import RowOutcome, RunStatus, SqlModel, Sync, SyncRun, SyncRunRow, Warehouse

ACCESS = {
    "Marketing Operations": [
        ("syncs.view", 0),
        ("syncs.manage", 90),
        ("syncs.run", 90),
        ("syncs.run_production", 180),
    ],
    "Lifecycle Marketing": [("syncs.view", 30)],
    "Privacy & Compliance": [("syncs.view", 0)],
    "Data Engineering": [("syncs.view", 0), ("syncs.manage", 30), ("syncs.run", 30)],
}

MODELS = [
    (
        "Customers with orders",
        "user_id",
        "Signed-in customers, their orders and when they were last seen.",
        "SELECT e.user_id AS user_id,\n"
        "       SUM(CASE WHEN e.name = 'Order Completed' THEN 1 ELSE 0 END) AS orders,\n"
        "       MAX(e.received_at) AS last_seen\n"
        "FROM activation.events e\n"
        "WHERE e.user_id <> ''\n"
        "GROUP BY e.user_id",
    ),
    (
        "Known email addresses",
        "email",
        "Every email the identity graph knows, with the profile's state and last channel.",
        "SELECT i.value AS email, p.status AS profile_state,\n"
        "       p.last_touch_channel AS last_channel, i.first_seen AS first_seen\n"
        "FROM activation.identifiers i\n"
        "JOIN activation.profiles p ON p.profile_id = i.profile_id\n"
        "WHERE i.type = 'email'",
    ),
]


def load() -> str:
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return "no administrator to act as"
    grant_demo_capabilities(admin, ACCESS)
    lakehouse = _lakehouse(admin)
    if Warehouse.objects.exclude(pk=getattr(lakehouse, "pk", None)).exists():
        return "warehouses already loaded" + (", and the analytics lakehouse" if lakehouse else "")
    warehouse = services.warehouse_create(
        actor=admin,
        name="Console database",
        kind="console",
        statement_timeout=30,
        description="The console's activation views, read-only: events, profiles, identifiers, "
        "consent.",
    )
    for name, key, description, sql in MODELS:
        services.model_create(
            actor=admin,
            name=name,
            warehouse=warehouse,
            sql=sql,
            primary_key=key,
            description=description,
        )
    services.warehouse_test(actor=admin, warehouse=warehouse)
    syncs = _syncs(admin)
    return (
        f"{Warehouse.objects.count()} warehouses, {SqlModel.objects.count()} models, {syncs} syncs"
    )


# The company's analytics lakehouse, a DuckDB file of the console's: customers with their
# orders, lifetime value and last order, which two models read; the event stream lands in
# its schema martech_events.
LAKEHOUSE = "Analytics lakehouse"
LAKEHOUSE_FILE = "lakehouse.duckdb"
LAKEHOUSE_MODELS = [
    (
        "Customers with lifetime value",
        "customer_id",
        "Every customer with an order: orders, revenue to date and the last order, from the "
        "finance team's customer table.",
        "SELECT customer_id, email, plan, orders, lifetime_value, last_order_at\n"
        "FROM analytics.customers\n"
        "WHERE orders > 0",
    ),
    (
        "Churn risk",
        "customer_id",
        "Paying customers by how long since their last order: high after 90 days, medium after 45.",
        "SELECT customer_id, email, lifetime_value,\n"
        "       current_date - last_order_at AS days_since_order,\n"
        "       CASE WHEN current_date - last_order_at > 90 THEN 'high'\n"
        "            WHEN current_date - last_order_at > 45 THEN 'medium'\n"
        "            ELSE 'low' END AS churn_risk\n"
        "FROM analytics.customers\n"
        "WHERE plan <> 'free' AND orders > 0",
    ),
]
FIRST = "Ana Ben Chloe Dario Elif Femi Greta Hugo Ines Jonas Kenji Lena Mateo Nadia Omar Priya "
LAST = "Costa Berg Dubois Rossi Yilmaz Okafor Larsen Martins Silva Weber Tanaka Novak Haddad "


def _customers(today: dt.date) -> list[tuple]:
    """240 customers, the same every time: a plan, orders, revenue and the last order."""
    import random

    draw = random.Random(2026)
    firsts, lasts = FIRST.split(), LAST.split()
    rows = []
    for n in range(240):
        first, last = draw.choice(firsts), draw.choice(lasts)
        plan = draw.choices(["free", "starter", "pro", "business"], [30, 35, 25, 10])[0]
        orders = 0 if plan == "free" and draw.random() < 0.6 else draw.randint(1, 24)
        value = round(orders * draw.uniform(18, 140) * (2 if plan == "business" else 1), 2)
        last_order = today - dt.timedelta(days=draw.randint(1, 180)) if orders else None
        first_order = last_order - dt.timedelta(days=draw.randint(0, 700)) if last_order else None
        rows.append(
            (
                f"C-{1001 + n}",
                f"{first.lower()}.{last.lower()}{n}@mail.example",
                first,
                last,
                plan,
                orders,
                value,
                first_order,
                last_order,
            )
        )
    return rows


def _lakehouse_file() -> None:
    """Write the lakehouse's customer table, unless the file holds it already."""
    import duckdb

    from .warehouses.duckdb import database_file

    path = database_file(LAKEHOUSE_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA IF NOT EXISTS analytics")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS analytics.customers (customer_id VARCHAR PRIMARY KEY, "
            "email VARCHAR, first_name VARCHAR, last_name VARCHAR, plan VARCHAR, orders "
            "INTEGER, lifetime_value DECIMAL(12, 2), first_order_at DATE, last_order_at DATE)"
        )
        if not connection.execute("SELECT count(*) FROM analytics.customers").fetchone()[0]:
            connection.executemany(
                "INSERT INTO analytics.customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _customers(timezone.localdate()),
            )


def _lakehouse(admin) -> Warehouse | None:
    """The analytics lakehouse, its two models and the event stream landing in it; None
    when it is there already."""
    from apps.destinations import demo as destinations_demo
    from apps.destinations import services as destinations
    from apps.tools.models import Tool

    if Warehouse.objects.filter(name=LAKEHOUSE).exists():
        return None
    _lakehouse_file()
    warehouse = services.warehouse_create(
        actor=admin,
        name=LAKEHOUSE,
        kind="duckdb",
        credentials={"path": LAKEHOUSE_FILE},
        statement_timeout=30,
        description="The data team's DuckDB lakehouse: finance's customer table, and the event "
        "stream in schema martech_events.",
    )
    for name, key, description, sql in LAKEHOUSE_MODELS:
        services.model_create(
            actor=admin,
            name=name,
            warehouse=warehouse,
            sql=sql,
            primary_key=key,
            description=description,
        )
    tool = Tool.objects.filter(name="Snowflake").first() or Tool.objects.order_by("pk").first()
    if tool is not None:
        destinations.destination_create(
            actor=admin,
            name="Lakehouse event stream",
            adapter="warehouse",
            tool=tool,
            environment="production",
            sends="both",
            purposes=["analytics"],
            config={"warehouse": str(warehouse.pk), "schema": "martech_events"},
            description="Every event analytics consent allows, in Segment's tables, every 15 "
            "minutes.",
            is_enabled=True,
        )
        transaction.on_commit(destinations_demo.land_events)
    return warehouse


SYNCS = [
    {
        "name": "Customers to Braze",
        "model": "Customers with orders",
        "destination": "Braze (production)",
        "object": "users",
        "mode": "upsert",
        "subject_column": "user_id",
        "subject_type": "user_id",
        "mappings": [
            {"from": "orders", "to": "order_count"},
            {"from": "last_seen", "to": "last_seen_at"},
        ],
        "schedule": "cron",
        "cron": "0 6 * * *",
        "row_threshold": 5000,
        "description": "Order counts for lifecycle segments, every morning at six.",
    },
    {
        "name": "Known emails to the data team",
        "model": "Known email addresses",
        "destination": "Data team webhook",
        "object": "contacts",
        "mode": "mirror",
        "subject_column": "email",
        "subject_type": "email",
        "mappings": [
            {"from": "profile_state", "to": "profile_state"},
            {"from": "first_seen", "to": "first_seen"},
        ],
        "schedule": "interval",
        "interval_minutes": 60,
        "description": "The identity graph's email addresses, mirrored for the data team.",
    },
]


def _syncs(admin) -> int:
    models = {m.name: m for m in SqlModel.objects.all()}
    destinations = {d.name: d for d in Destination.objects.all()}
    made = []
    for spec in SYNCS:
        model, destination = models.get(spec["model"]), destinations.get(spec["destination"])
        if model is None or destination is None:
            continue
        made.append(
            services.sync_create(
                actor=admin, **{**spec, "model": model, "destination": destination}
            )
        )
    # The runs read the warehouse through its own connection: after the demo is committed.
    transaction.on_commit(lambda: settle_runs(admin))
    return len(made)


def settle_runs(admin) -> None:
    """A week of hourly history for the sandbox sync, a real dry run of it, and a real first
    run of the production sync, which the guard rail holds for approval.

    The week's first run is the engine's own, with the data team's endpoint (which the demo
    cannot reach) answering 200 to each request: what it acknowledged is the sync's state,
    so the later dry run compares against it (unchanged rows read as unchanged)."""
    mirror = Sync.objects.filter(name="Known emails to the data team").first()
    if mirror is not None:
        now = timezone.now()
        first_at = now - dt.timedelta(days=6, hours=2)
        first = SyncRun.objects.create(
            sync=mirror,
            mode=mirror.mode,
            trigger="manual",
            requested_by=admin,
            created_at=first_at,
            started_at=first_at,
            heartbeat_at=first_at,
        )
        tally = _Acknowledged(first).go(dry=False)
        total = tally.total or 0
        SyncRun.objects.filter(pk=first.pk).update(
            status=RunStatus.PARTIAL if tally.counts["failed"] else RunStatus.SUCCEEDED,
            total=total,
            done=tally.done,
            requests=tally.requests,
            finished_at=first_at + dt.timedelta(seconds=4),
            **tally.counts,
        )
        history = []
        shape = [(2, 5, 0, 0), (1, 3, 1, 0), (0, 4, 0, 1), (3, 2, 0, 0), (0, 6, 1, 0)]
        for n, counts in enumerate(shape, start=1):
            added, changed, removed, failed = (min(c, total // 2 or 1) for c in counts)
            at = now - dt.timedelta(days=6 - n, hours=2)
            history.append(
                SyncRun(
                    sync=mirror,
                    number=first.number + n,
                    status=RunStatus.PARTIAL if failed else RunStatus.SUCCEEDED,
                    trigger="schedule",
                    requested_by=None,
                    mode=mirror.mode,
                    total=total,
                    done=total,
                    added=added,
                    changed=changed,
                    removed=removed,
                    failed=failed,
                    unchanged=max(0, total - added - changed),
                    requests=1 + (added + changed) // 100 + removed,
                    created_at=at,
                    started_at=at,
                    heartbeat_at=at + dt.timedelta(seconds=4),
                    finished_at=at + dt.timedelta(seconds=4),
                )
            )
        SyncRun.objects.bulk_create(history)
        # a failed count names its rows, as a real run's does
        keys = list(mirror.rows.order_by("key").values_list("key", flat=True)) or ["row-1"]
        SyncRunRow.objects.bulk_create(
            [
                SyncRunRow(
                    run=run,
                    key=keys[(n + i) % len(keys)],
                    outcome=RowOutcome.FAILED,
                    message='HTTP 422 from the data team\'s endpoint: "first_seen" must be '
                    "an ISO 8601 date.",
                )
                for n, run in enumerate(history)
                for i in range(run.failed)
            ]
        )
        Sync.objects.filter(pk=mirror.pk).update(approved_mode=mirror.mode)
        _run_here(admin, mirror, dry_run=True)
        # the demo cannot reach the data team's endpoint: its hourly schedule waits, paused
        services.sync_pause(actor=admin, sync=mirror, paused=True)
    braze = Sync.objects.filter(name="Customers to Braze").first()
    if braze is not None:
        _run_here(admin, braze, dry_run=False)


class _Acknowledged(Runner):
    """A run whose every request the destination acknowledges, without sending it."""

    def _request(self, request: Outbound) -> Result:
        self.tally.requests += 1
        return Result(Verdict.DELIVERED, 200)


def _run_here(admin, sync: Sync, *, dry_run: bool) -> SyncRun:
    """A run carried out in this process (the demo may have no worker yet)."""
    now = timezone.now()
    run = SyncRun.objects.create(
        sync=sync,
        dry_run=dry_run,
        mode=sync.mode,
        requested_by=admin,
        created_at=now,
        heartbeat_at=now,
    )
    running.execute(run.pk)
    run.refresh_from_db()
    return run
