import base64
import json

import pytest

from apps.consent.defaults import ensure_default_purposes
from apps.destinations import services
from apps.events import services as events
from apps.syncs.models import Warehouse
from apps.tools.services import tool_create
from martech.common import crypto
from tests import factories


@pytest.fixture(autouse=True)
def purposes(db):
    ensure_default_purposes()


@pytest.fixture
def tool(admin):
    return tool_create(actor=admin, name="Acme Hooks", vendor="Acme", category="Automation")


@pytest.fixture
def web(admin):
    return events.source_create(actor=admin, name="Web", rate_limit=10_000)


def send(client, raw, messages, **headers):
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    response = client.post(
        "/v1/batch",
        json.dumps({"batch": messages}),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
        **headers,
    )
    assert response.status_code == 200, response.content
    return response


def person_with(admin, *codes, tenure_days=200, name="Dana Delivery"):
    """Someone whose role grants ``codes``; send_production needs 90 days of tenure."""
    return factories.person_with(
        admin,
        *codes,
        tenure_days=tenure_days,
        name=name,
        tenures={"destinations.send_production": 90},
    )


def hook(admin, tool, vendor, **fields):
    """A webhook destination pointed at a loopback vendor."""
    defaults = {
        "name": "Hooks",
        "adapter": "webhook",
        "tool": tool,
        "environment": "sandbox",
        "config": {"url": vendor.base_url + "/hooks/martech"},
        "is_enabled": True,
        "credentials": dict(vendor.credentials),
    }
    return services.destination_create(actor=admin, **{**defaults, **fields})


@pytest.fixture
def duck(settings, tmp_path):
    return duck_warehouse(settings, tmp_path)


def duck_warehouse(settings, tmp_path):
    """A DuckDB warehouse in a folder the settings allow, and ways to read it back
    (``read``) and to write to it as another tool would (``write``)."""
    import duckdb

    settings.MARTECH_DUCKDB_DIRECTORIES = [str(tmp_path)]
    path = tmp_path / "analytics.duckdb"
    warehouse = Warehouse.objects.create(
        name="Lakehouse", kind="duckdb", dsn_token=crypto.encrypt({"path": str(path)})
    )

    def read(sql):
        with duckdb.connect(str(path), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    def write(sql):
        with duckdb.connect(str(path)) as connection:
            connection.execute(sql)

    warehouse.read, warehouse.write, warehouse.path = read, write, path
    return warehouse


def warehouse_destination(admin, tool, warehouse, **fields):
    """A warehouse destination loading ``warehouse``'s schema martech_events."""
    defaults = {
        "name": "Event warehouse",
        "adapter": "warehouse",
        "tool": tool,
        "environment": "sandbox",
        "config": {"warehouse": str(warehouse.pk), "schema": "martech_events"},
        "sends": "both",
        "is_enabled": True,
    }
    return services.destination_create(actor=admin, **{**defaults, **fields})


@pytest.fixture
def pg(admin):
    """A company's PostgreSQL: a database of its own on the test server, loaded as a role
    that owns it but is no superuser."""
    from django.db import connection

    from tests.syncs.warehouses.pg_databases import company_database, read

    if connection.vendor != "postgresql":
        pytest.skip("the company database is made on the PostgreSQL test server")
    with company_database("events") as database:
        warehouse = Warehouse.objects.create(
            name="Analytics DB", kind="postgres", dsn_token=crypto.encrypt({"dsn": database["dsn"]})
        )
        warehouse.read = lambda sql: read(database, sql)
        yield warehouse
