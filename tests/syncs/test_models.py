"""Warehouses and SQL models: one read query, run read-only with a timeout, previewed with
column types, and a primary key checked for nulls and duplicates."""

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from apps.syncs import services
from apps.syncs.engine import warehouse as engine
from apps.syncs.engine.sql import check_sql
from apps.syncs.models import Warehouse
from martech.common.errors import ApplicationError

from .conftest import READER, admin_dsn, dsn, grant_reader


@pytest.fixture
def table(db):
    """A warehouse table committed outside the test's transaction, as a real one is."""
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS wh_customers")
        conn.execute(
            "CREATE TABLE wh_customers (id text, email text, ltv numeric(10,2), seen timestamptz)"
        )
        conn.execute(
            "INSERT INTO wh_customers VALUES ('c1', 'ana@acme.example', 120.50, now()),"
            " ('c2', 'bo@acme.example', 80, now()), ('c2', 'bo2@acme.example', 5, now()),"
            " (NULL, 'nobody@acme.example', 0, now())"
        )
        grant_reader(conn, "wh_customers")
    yield "wh_customers"
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS wh_customers")


@pytest.fixture
def warehouse(admin):
    return services.warehouse_create(actor=admin, name="Analytics", kind="postgres", dsn=dsn())


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DELETE FROM wh_customers", "this is DELETE"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", "contains DELETE"),
        ("SELECT * INTO copy FROM t", "INTO creates a table"),
        ("SELECT * FROM t FOR UPDATE", "locks rows"),
        ("SELECT pg_terminate_backend(42)", "pg_terminate_backend"),
        ("SELEC 1", "does not parse"),
        ("", "Write a SELECT"),
    ],
)
def test_anything_but_a_single_read_query_is_refused_with_a_reason(sql, reason):
    with pytest.raises(ApplicationError) as caught:
        check_sql(sql)
    assert caught.value.code == "invalid_sql"
    assert reason in caught.value.message


def test_a_read_query_with_ctes_and_unions_is_accepted():
    sql = "WITH a AS (SELECT 1 AS id) SELECT id FROM a UNION SELECT 2;"
    assert check_sql(sql) == "WITH a AS (SELECT 1 AS id) SELECT id FROM a UNION SELECT 2"


def test_the_preview_shows_rows_and_column_types_and_the_key_check_names_bad_keys(
    admin, warehouse, table
):
    sql = f"SELECT id, email, ltv FROM {table}"  # noqa: S608
    model = services.model_create(
        actor=admin, name="Customers", warehouse=warehouse, sql=sql, primary_key="id"
    )
    shown = engine.preview(warehouse, model.sql)
    assert shown.columns == [
        {"name": "id", "type": "text"},
        {"name": "email", "type": "text"},
        {"name": "ltv", "type": "numeric"},
    ]
    assert len(shown.rows) == 4
    check = engine.check_key(warehouse, model.sql, "id")
    assert (check.rows, check.nulls, check.duplicates, check.ok) == (4, 1, [("c2", 2)], False)


def test_the_key_check_counts_blank_text_keys_as_empty(admin, warehouse):
    sql = "SELECT * FROM (VALUES ('c1'), (''), ('   '), (NULL), ('c1')) AS t(id)"
    check = engine.check_key(warehouse, sql, "id")
    assert (check.rows, check.nulls, check.duplicates, check.ok) == (5, 3, [("c1", 2)], False)


def test_a_query_runs_read_only_and_within_the_statement_timeout(admin, warehouse, table):
    with engine.reading(warehouse) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute(f"INSERT INTO {table} VALUES ('c9', 'x', 1, now())")  # noqa: S608
    services.warehouse_update(actor=admin, warehouse=warehouse, statement_timeout=1)
    warehouse.refresh_from_db()
    with engine.reading(warehouse) as conn, pytest.raises(psycopg.errors.QueryCanceled):
        conn.execute("SELECT pg_sleep(1.5)")


def test_a_model_whose_key_is_not_a_column_is_refused(admin, warehouse, table):
    sql = f"SELECT email FROM {table}"  # noqa: S608
    with pytest.raises(ApplicationError) as caught:
        services.model_create(actor=admin, name="X", warehouse=warehouse, sql=sql, primary_key="id")
    assert caught.value.code == "invalid_primary_key"
    assert "it has email" in caught.value.message


def test_the_dsn_is_encrypted_write_only_and_the_test_reports_the_server(
    admin, admin_api, warehouse
):
    stored = Warehouse.objects.get(pk=warehouse.pk)
    assert "postgresql://" not in stored.dsn_token
    assert stored.display.endswith(f"/{connection.settings_dict['NAME']} as {READER}")
    ok, message = services.warehouse_test(actor=admin, warehouse=warehouse)
    assert ok
    assert message.startswith("PostgreSQL")
    body = admin_api.get(reverse("api:warehouse-detail", args=[warehouse.pk])).json()
    assert "dsn" not in body
    assert body["last_test_ok"] is True


def test_an_unreachable_warehouse_fails_its_test_with_the_reason(admin):
    broken = services.warehouse_create(
        actor=admin, name="Gone", kind="postgres", dsn="postgresql://reader@127.0.0.1:1/nowhere"
    )
    ok, message = services.warehouse_test(actor=admin, warehouse=broken)
    assert not ok
    assert "Cannot connect" in message


def test_the_api_previews_a_model_and_refuses_a_write_query(admin_api, warehouse, table):
    url = reverse("api:model-list")
    update = f"UPDATE {table} SET ltv = 0"  # noqa: S608
    bad = admin_api.post(
        url,
        {"name": "Bad", "warehouse": warehouse.pk, "sql": update, "primary_key": "id"},
        format="json",
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_sql")
    select = f"SELECT email, ltv FROM {table}"  # noqa: S608
    ok = admin_api.post(
        url,
        {"name": "Emails", "warehouse": warehouse.pk, "sql": select, "primary_key": "email"},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    preview = admin_api.get(reverse("api:model-preview", args=[ok.json()["id"]])).json()
    assert [c["name"] for c in preview["columns"]] == ["email", "ltv"]
    assert ["ana@acme.example", "120.50"] in preview["rows"]
    check = admin_api.get(reverse("api:model-key-check", args=[ok.json()["id"]])).json()
    assert check == {"rows": 4, "nulls": 0, "duplicates": [], "ok": True}


def test_the_model_page_shows_the_preview_and_the_key_problems(
    admin, admin_client, warehouse, table
):
    sql = f"SELECT id, email FROM {table}"  # noqa: S608
    model = services.model_create(
        actor=admin, name="Customers", warehouse=warehouse, sql=sql, primary_key="id"
    )
    page = admin_client.get(reverse("syncs:model_detail", args=[model.pk])).content.decode()
    assert "ana@acme.example" in page
    assert "a run would be refused" in page
    assert "<code>c2</code>" in page
    listing = admin_client.get(reverse("syncs:model_list")).content.decode()
    assert f'data-model="{model.pk}"' in listing


def test_a_preview_holds_back_a_value_too_large_to_show_and_keeps_repeated_column_names(
    admin_api, warehouse, table
):
    # given a model whose query makes a 5 MB value in every row, and names a column twice
    sql = f"SELECT id, lpad(email, 5000000, 'x') AS big, ltv, ltv FROM {table}"  # noqa: S608
    made = admin_api.post(
        reverse("api:model-list"),
        {"name": "Big", "warehouse": warehouse.pk, "sql": sql, "primary_key": "id"},
        format="json",
    )
    assert made.status_code == 201, made.content
    # when it is previewed
    answer = admin_api.get(reverse("api:model-preview", args=[made.json()["id"]]))
    # then the value stays in the database, its size is said, the rest reads as written
    assert answer.status_code == 200
    assert len(answer.content) < 10_000
    body = answer.json()
    assert [c["name"] for c in body["columns"]] == ["id", "big", "ltv", "ltv"]
    assert body["columns"][1]["type"] == "text"
    assert ["c1", "(a value of 5,000,000 bytes: too large to preview)", "120.50", "120.50"] in (
        body["rows"]
    )
