"""Reverse-ETL fixtures: a PostgreSQL warehouse table committed outside the test's
transaction (as a real warehouse is), loopback vendors and syncs to them."""

from __future__ import annotations

import contextlib

import psycopg
import pytest
from django.db import connection

from apps.consent.defaults import ensure_default_purposes
from apps.destinations import services as destinations
from apps.syncs import services
from apps.tools.services import tool_create
from tests import factories
from tests.destinations.vendors import FakeVendor

READER = "martech_test_reader"


def admin_dsn() -> str:
    """The console's own role: it creates and fills the warehouse tables."""
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def dsn() -> str:
    """A company warehouse's DSN: a role that may only read the tables granted to it (a
    superuser is refused on connect)."""
    db = connection.settings_dict
    return f"postgresql://{READER}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def grant_reader(conn, table: str) -> None:
    """Let the reader role read ``table`` (the role is created once per server; two test
    processes may create it at the same moment)."""
    with contextlib.suppress(psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        conn.execute(f"CREATE ROLE {READER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
    conn.execute(f"GRANT USAGE ON SCHEMA public TO {READER}")
    conn.execute(f"GRANT SELECT ON {table} TO {READER}")


class Table:
    """``wh_people``: id, email, name, ltv — edited through its own autocommit connection."""

    name = "wh_people"

    def __init__(self):
        self.conn = psycopg.connect(admin_dsn(), autocommit=True)
        self.conn.execute(f"DROP TABLE IF EXISTS {self.name}")
        self.conn.execute(f"CREATE TABLE {self.name} (id text, email text, name text, ltv int)")
        grant_reader(self.conn, self.name)

    def fill(self, n: int, start: int = 0, domain: str = "acme.example") -> None:
        with self.conn.cursor().copy(f"COPY {self.name} FROM STDIN") as copy:
            for i in range(start, start + n):
                copy.write_row((f"c{i}", f"person{i}@{domain}", f"Person {i}", i))

    def execute(self, sql: str, params=None) -> None:
        self.conn.execute(sql, params)

    def drop(self) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS {self.name}")
        self.conn.close()


@pytest.fixture
def table(db):
    table = Table()
    yield table
    table.drop()


@pytest.fixture(autouse=True)
def purposes(db):
    ensure_default_purposes()


@pytest.fixture
def warehouse(admin):
    return services.warehouse_create(actor=admin, name="Analytics", kind="postgres", dsn=dsn())


@pytest.fixture
def model(admin, warehouse, table):
    table.fill(3)
    return services.model_create(
        actor=admin,
        name="People",
        warehouse=warehouse,
        primary_key="id",
        sql=f"SELECT id, email, name, ltv FROM {table.name}",  # noqa: S608
    )


@pytest.fixture
def tool(admin):
    return tool_create(actor=admin, name="Acme CRM", vendor="Acme", category="CRM")


@pytest.fixture
def webhook_vendor():
    with FakeVendor("webhook") as vendor:
        yield vendor


@pytest.fixture
def hubspot_vendor():
    with FakeVendor("hubspot") as vendor:
        yield vendor


def destination_for(admin, tool, vendor, **fields):
    if vendor.kind == "webhook":
        base = {
            "adapter": "webhook",
            "config": {"url": vendor.base_url + "/hooks/martech", "requests_per_second": 1000},
        }
    else:
        base = {"adapter": vendor.kind, "base_url": vendor.base_url}
    defaults = {
        "name": f"{vendor.kind} sink",
        "tool": tool,
        "environment": "sandbox",
        "is_enabled": True,
        "credentials": dict(vendor.credentials),
        **base,
    }
    return destinations.destination_create(actor=admin, **{**defaults, **fields})


def sync_for(admin, model, destination, **fields):
    defaults = {
        "name": "People to CRM",
        "model": model,
        "destination": destination,
        "object": "contacts",
        "mode": "upsert",
        "subject_column": "email",
        "subject_type": "email",
        "mappings": [{"from": "name", "to": "full_name"}, {"from": "ltv", "to": "ltv"}],
    }
    return services.sync_create(actor=admin, **{**defaults, **fields})


def run_now(actor, sync, **kwargs):
    """Request a run and carry it out here (the task does the same in a worker)."""
    from apps.syncs.running import execute

    run = services.sync_run(actor=actor, sync=sync, **kwargs)
    execute(run.pk)
    run.refresh_from_db()
    return run


def sent_rows(vendor) -> list[dict]:
    """Every row the webhook vendor received, in order."""
    return [row for r in vendor.requests for row in (r.body or {}).get("batch", [])]


def person_with(admin, *codes, tenure_days=200, name="Sam Sync"):
    """Someone whose role grants ``codes``; syncs.run_production needs 90 days of tenure."""
    return factories.person_with(
        admin, *codes, tenure_days=tenure_days, name=name, tenures={"syncs.run_production": 90}
    )
