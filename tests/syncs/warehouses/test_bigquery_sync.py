"""Reverse ETL from Google BigQuery: a model read through google-cloud-bigquery (the loopback
BigQuery of ``fakes/bigquery.py``) synced to a loopback webhook, diffed by the fingerprints
BigQuery computes."""

from __future__ import annotations

import json

import pytest

from apps.syncs import services
from apps.syncs.models import RunStatus
from tests.syncs.conftest import destination_for, run_now, sent_rows, sync_for
from tests.syncs.warehouses.fakes.bigquery import FakeBigQuery


@pytest.fixture
def bigquery(settings, admin):
    with FakeBigQuery() as fake:
        settings.MARTECH_BIGQUERY_API_ENDPOINT = fake.api_endpoint
        settings.MARTECH_BIGQUERY_TOKEN_URIS = [fake.token_uri]
        fake.execute("CREATE SCHEMA crm")
        fake.execute(
            "CREATE TABLE crm.people AS SELECT 'c' || i AS id, "
            "'person' || i || '@acme.example' AS email, 'Person ' || i AS name, i AS ltv "
            "FROM range(3) t(i)"
        )
        fake.warehouse = services.warehouse_create(
            actor=admin,
            name="BigQuery",
            kind="bigquery",
            credentials={
                "project_id": fake.project,
                "location": fake.location,
                "dataset": "crm",
                "service_account_json": json.dumps(fake.service_account()),
            },
        )
        yield fake


def test_a_bigquery_model_syncs_every_row_then_only_what_changed(
    admin, tool, webhook_vendor, bigquery
):
    model = services.model_create(
        actor=admin,
        name="People",
        warehouse=bigquery.warehouse,
        primary_key="id",
        sql="SELECT id, email, name, ltv FROM people",
    )
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))

    first = run_now(admin, sync)
    assert first.status == RunStatus.SUCCEEDED, first.error
    assert (first.added, first.total) == (3, 3)
    assert sorted(r["fields"]["full_name"] for r in sent_rows(webhook_vendor)) == [
        "Person 0",
        "Person 1",
        "Person 2",
    ]

    webhook_vendor.clear()
    bigquery.execute("UPDATE crm.people SET name = 'Person One' WHERE id = 'c1'")
    bigquery.execute("INSERT INTO crm.people VALUES ('c3', 'person3@acme.example', 'Person 3', 3)")
    second = run_now(admin, sync)
    assert second.status == RunStatus.SUCCEEDED, second.error
    assert (second.added, second.changed, second.unchanged) == (1, 1, 2)
    assert sorted(r["fields"]["full_name"] for r in sent_rows(webhook_vendor)) == [
        "Person 3",
        "Person One",
    ]
    queries = [r.body for r in bigquery.received if r.path.endswith("/queries")]
    assert all(q["jobTimeoutMs"] == str(model.warehouse.statement_timeout * 1000) for q in queries)
