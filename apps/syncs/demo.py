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
    if Warehouse.objects.exists():
        return "warehouses already loaded"
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
    return f"1 warehouse, {SqlModel.objects.count()} models, {syncs} syncs"


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
