"""Events landing in Google BigQuery: the warehouse destination's loader through the BigQuery
engine and google-cloud-bigquery, against the loopback BigQuery (load jobs, schema patches,
DML on DuckDB)."""

from __future__ import annotations

import json

import pytest

from apps.destinations import services
from apps.destinations.models import LoadStatus, WarehouseLoad
from apps.destinations.warehouse import loader
from apps.events.pipeline import process_waiting
from apps.syncs.services import warehouse_create
from tests.syncs.warehouses.fakes.bigquery import FakeBigQuery

from .conftest import send


@pytest.fixture
def bigquery(settings, admin):
    with FakeBigQuery() as fake:
        settings.MARTECH_BIGQUERY_API_ENDPOINT = fake.api_endpoint
        settings.MARTECH_BIGQUERY_TOKEN_URIS = [fake.token_uri]
        fake.execute("CREATE SCHEMA analytics")
        key = fake.service_account("martech-loader", role="editor")
        fake.warehouse = warehouse_create(
            actor=admin,
            name="BigQuery",
            kind="bigquery",
            credentials={
                "project_id": fake.project,
                "location": fake.location,
                "dataset": "analytics",
                "service_account_json": json.dumps(key),
            },
        )
        yield fake


def test_events_land_in_bigquery_by_load_jobs_once_even_when_loaded_again(
    client, admin, tool, web, bigquery
):
    destination = services.destination_create(
        actor=admin,
        name="Event warehouse",
        adapter="warehouse",
        tool=tool,
        environment="sandbox",
        config={"warehouse": str(bigquery.warehouse.pk), "schema": "martech_events"},
        sends="both",
        is_enabled=True,
    )
    _, raw = web
    track = {
        "type": "track",
        "event": "Order Completed",
        "messageId": "m1",
        "anonymousId": "visitor-1",
        "properties": {"revenue": 1, "orderId": "o-1"},
    }
    identify = {
        "type": "identify",
        "messageId": "i1",
        "anonymousId": "visitor-1",
        "userId": "u-1",
        "traits": {"email": "ana@acme.example", "plan": "pro"},
    }
    send(client, raw, [track, identify])
    assert process_waiting() == 2

    first = loader.load(destination)

    assert first.status == LoadStatus.LOADED, first.error
    assert first.rows == {"tracks": 1, "order_completed": 1, "identifies": 1, "users": 1}
    assert bigquery.execute(
        "SELECT id, event_text, revenue, order_id FROM martech_events.order_completed"
    ) == [("m1", "Order Completed", 1, "o-1")]
    assert bigquery.execute("SELECT id, plan, email FROM martech_events.users") == [
        ("u-1", "pro", "ana@acme.example")
    ]
    fields = {
        f["name"]: f["type"] for f in bigquery.table_fields("martech_events", "order_completed")
    }
    assert (fields["revenue"], fields["received_at"]) == ("INTEGER", "TIMESTAMP")
    assert any(r.path.startswith("/upload/bigquery/v2/") for r in bigquery.received)

    WarehouseLoad.objects.all().delete()
    again = loader.load(destination)
    assert again.status == LoadStatus.LOADED, again.error
    assert again.rows["tracks"] == 0
    assert bigquery.execute("SELECT count(*) FROM martech_events.tracks") == [(1,)]
    assert bigquery.execute("SELECT count(*) FROM martech_events.users") == [(1,)]
