"""The Databricks engine through the real ``databricks-sql-connector``, against a loopback
SQL warehouse speaking its Thrift-over-HTTPS protocol (``fakes.databricks``), TLS verified
against the fake's own CA (``MARTECH_DATABRICKS_CA_FILE``)."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from apps.destinations import services as destination_services
from apps.destinations.models import LoadStatus, WarehouseLoad
from apps.destinations.warehouse import loader
from apps.events import services as events
from apps.events.pipeline import process_waiting
from apps.syncs import services
from apps.syncs.errors import SyncsErrorCode
from apps.syncs.models import RunStatus
from apps.syncs.warehouses import engine_for, kinds
from apps.syncs.warehouses.base import Column, Table
from martech.common.errors import ApplicationError
from tests.syncs.conftest import destination_for, run_now, sent_rows, sync_for
from tests.syncs.warehouses.fakes.databricks import (
    CATALOG,
    CLIENT_ID,
    CLIENT_SECRET,
    SCHEMA,
    TOKEN,
    FakeDatabricks,
)

ENGINE = engine_for("databricks")


@pytest.fixture
def dbx(settings):
    """A loopback SQL warehouse with a table of customers, trusted by the engine."""
    with FakeDatabricks() as fake:
        settings.MARTECH_DATABRICKS_CA_FILE = str(fake.ca_file)
        fake.sql(
            "CREATE TABLE customers (id VARCHAR, email VARCHAR, ltv INTEGER, "
            "churn_risk DOUBLE, signed_up TIMESTAMP)"
        )
        fake.sql(
            "INSERT INTO customers SELECT 'c' || lpad(CAST(i AS VARCHAR), 4, '0'), "
            "'person' || i || '@acme.example', i * 10, i / 100.0, "
            "TIMESTAMP '2026-01-01' + to_minutes(i) FROM range(120) AS t(i)"
        )
        yield fake


def given(fake: FakeDatabricks, **overrides) -> dict[str, str]:
    return {
        "server_hostname": f"{fake.host}:{fake.port}",
        "http_path": fake.http_path,
        "access_token": TOKEN,
        "catalog": CATALOG,
        "schema": SCHEMA,
        **overrides,
    }


def credentials(fake: FakeDatabricks, **overrides) -> dict[str, str]:
    return ENGINE.clean(given(fake, **overrides)).credentials


def refused(call) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call()
    assert caught.value.status == 400
    return caught.value


# -- registry and credentials ---------------------------------------------------------------


def test_databricks_is_a_kind_of_warehouse_with_token_or_service_principal_fields():
    assert ("databricks", "Databricks SQL") in kinds()
    names = {field.name: field for field in ENGINE.fields}
    assert {"server_hostname", "http_path", "access_token", "client_id", "client_secret"} <= set(
        names
    )
    assert names["access_token"].secret
    assert names["client_secret"].secret
    assert not names["client_id"].secret


def test_clean_keeps_the_hostname_path_and_token_and_shows_no_secret(dbx):
    cleaned = ENGINE.clean(given(dbx, server_hostname=f"https://{dbx.host}:{dbx.port}/"))
    assert cleaned.credentials == {
        "server_hostname": f"127.0.0.1:{dbx.port}",
        "http_path": dbx.http_path,
        "access_token": TOKEN,
        "catalog": CATALOG,
        "schema": SCHEMA,
    }
    assert TOKEN not in cleaned.display
    assert dbx.http_path in cleaned.display
    assert "personal access token" in cleaned.display


def test_clean_keeps_the_stored_token_when_it_is_left_blank(dbx):
    stored = credentials(dbx)
    again = ENGINE.clean(given(dbx, access_token=""), previous=stored)
    assert again.credentials["access_token"] == TOKEN


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"server_hostname": ""}, "server_hostname"),
        ({"server_hostname": "dbc-1.cloud.databricks.com/sql/1.0"}, "server_hostname"),
        ({"server_hostname": "dbc_1 .cloud.databricks.com"}, "server_hostname"),
        ({"server_hostname": "dbc-1.cloud.databricks.com:99999"}, "server_hostname"),
        ({"http_path": "/api/2.0/clusters"}, "http_path"),
        ({"access_token": ""}, "access_token"),
        ({"access_token": "not-a-databricks-token"}, "access_token"),
        ({"client_id": "not-a-uuid", "client_secret": CLIENT_SECRET}, "client_id"),
        ({"client_id": CLIENT_ID, "client_secret": ""}, "client_secret"),
        ({"catalog": "main; DROP"}, "catalog"),
    ],
)
def test_clean_refuses_malformed_credentials_naming_the_field(dbx, overrides, field):
    error = refused(lambda: ENGINE.clean(given(dbx, **overrides)))
    assert error.code == SyncsErrorCode.INVALID_CREDENTIALS
    assert error.details["field"] == field
    assert TOKEN not in error.message
    assert CLIENT_SECRET not in error.message


@pytest.mark.parametrize("host", ["169.254.169.254", "10.1.2.3", "metadata.google.internal"])
def test_clean_refuses_a_hostname_the_egress_policy_refuses(dbx, settings, host):
    settings.MARTECH_EGRESS_ALLOW = []
    error = refused(lambda: ENGINE.clean(given(dbx, server_hostname=host)))
    assert error.code == "egress_refused"


@pytest.mark.parametrize(
    "login",
    [{}, {"access_token": "", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}],
    ids=["token", "service principal"],
)
def test_a_refused_host_is_never_contacted_by_the_connector(dbx, settings, login):
    # given credentials saved while loopback was allowed
    stored = credentials(dbx, **login)
    settings.MARTECH_EGRESS_ALLOW = []
    # when a connection is opened, then the engine refuses before the connector sends
    error = refused(lambda: ENGINE.reading(stored, timeout=5).__enter__())
    assert error.code == "egress_refused"
    assert dbx.requests == []


def test_private_and_metadata_addresses_are_refused_at_connect(dbx, settings):
    saved = credentials(dbx)
    settings.MARTECH_EGRESS_ALLOW = []
    for host in ("169.254.169.254", "10.0.0.7"):
        stored = {**saved, "server_hostname": host}
        error = refused(lambda s=stored: ENGINE.reading(s, timeout=5).__enter__())
        assert error.code == "egress_refused"
    assert dbx.requests == []


# -- connecting ------------------------------------------------------------------------------


def test_connection_test_names_the_sql_warehouse_over_verified_tls(dbx):
    with ENGINE.reading(credentials(dbx), timeout=30) as connection:
        assert ENGINE.version(connection) == "Databricks SQL 2026.40"
    # the session asked the warehouse to cancel statements after the timeout
    assert dbx.opened[0]["STATEMENT_TIMEOUT"] == "30"
    assert (dbx.opened[0]["catalog"], dbx.opened[0]["schema"]) == (CATALOG, SCHEMA)


def test_a_wrong_access_token_is_a_400_login_refused_without_the_token(dbx):
    wrong = "dapi" + "f" * 32
    stored = credentials(dbx, access_token=wrong)
    error = refused(lambda: ENGINE.reading(stored, timeout=5).__enter__())
    assert error.code == SyncsErrorCode.WAREHOUSE_LOGIN_REFUSED
    assert wrong not in error.message


def test_an_unknown_http_path_is_a_400_naming_the_path(dbx):
    stored = credentials(dbx, http_path="/sql/1.0/warehouses/ffffffffffffffff")
    error = refused(lambda: ENGINE.reading(stored, timeout=5).__enter__())
    assert error.code == SyncsErrorCode.WAREHOUSE_UNREACHABLE
    assert error.details["field"] == "http_path"


def test_a_service_principal_connects_with_an_oauth_token_it_exchanged(dbx):
    stored = credentials(dbx, access_token="", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert "access_token" not in stored
    with ENGINE.reading(stored, timeout=10) as connection:
        assert ENGINE.version(connection).startswith("Databricks SQL")
    assert "/oidc/v1/token" in dbx.requests
    assert dbx.issued  # the warehouse saw the token it issued, not the secret


def test_a_wrong_service_principal_secret_is_a_400_login_refused(dbx):
    wrong = "dose" + "0" * 32
    stored = credentials(dbx, access_token="", client_id=CLIENT_ID, client_secret=wrong)
    error = refused(lambda: ENGINE.reading(stored, timeout=5).__enter__())
    assert error.code == SyncsErrorCode.WAREHOUSE_LOGIN_REFUSED
    assert wrong not in error.message
    assert dbx.http_path not in dbx.requests  # no session was attempted


# -- loading ---------------------------------------------------------------------------------

TRACKS = Table(
    schema="martech_events",
    name="tracks",
    columns=(
        Column("message_id", "string"),
        Column("user_id", "string"),
        Column("revenue", "float"),
        Column("count", "integer"),
        Column("consented", "boolean"),
        Column("timestamp", "timestamp"),
        Column("context", "json"),
    ),
    key="message_id",
)


def _events(start: int, n: int) -> list[tuple]:
    at = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    return [
        (
            f"m{i}",
            f"u{i % 7}",
            i * 1.5,
            i,
            i % 2 == 0,
            at + dt.timedelta(seconds=i),
            {"page": {"path": f"/p/{i}"}, "note": "it's \\ fine"},
        )
        for i in range(start, start + n)
    ]


def test_load_merges_by_key_so_a_repeated_batch_writes_nothing(dbx):
    with ENGINE.writing(credentials(dbx)) as connection:
        added = ENGINE.ensure(connection, TRACKS)
        assert added == []  # a new table has every column
        assert ENGINE.load(connection, TRACKS, _events(0, 1500)) == 1500
        assert ENGINE.load(connection, TRACKS, _events(1000, 1000)) == 500
    rows = dbx.sql(
        "SELECT count(*), count(DISTINCT message_id) FROM analytics.martech_events.tracks"
    )
    assert rows == [(2000, 2000)]
    stored = dbx.sql(
        'SELECT revenue, "count", consented, "timestamp", context '
        "FROM analytics.martech_events.tracks WHERE message_id = 'm3'"
    )
    assert stored == [
        (
            4.5,
            3,
            False,
            dt.datetime(2026, 12, 1, 9, 30, 3, tzinfo=dt.UTC),
            '{"page":{"path":"/p/3"},"note":"it\'s \\\\ fine"}',
        )
    ]
    assert any(s.lstrip().upper().startswith("MERGE INTO") for s in dbx.statements)


def test_ensure_adds_missing_columns_and_never_drops_one(dbx):
    with ENGINE.writing(credentials(dbx)) as connection:
        ENGINE.ensure(connection, TRACKS)
        wider = Table(
            schema=TRACKS.schema,
            name=TRACKS.name,
            columns=(TRACKS.columns[0], Column("plan", "string"), Column("seats", "integer")),
            key="message_id",
        )
        added = ENGINE.ensure(connection, wider)
        assert added == [Column("plan", "string"), Column("seats", "integer")]
        assert ENGINE.ensure(connection, wider) == []
    columns = [
        row[0]
        for row in dbx.sql(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_catalog = 'analytics' AND table_name = 'tracks' ORDER BY ordinal_position"
        )
    ]
    assert columns == [c.name for c in TRACKS.columns] + ["plan", "seats"]


def test_delete_removes_the_rows_of_the_given_identifiers(dbx):
    with ENGINE.writing(credentials(dbx)) as connection:
        ENGINE.ensure(connection, TRACKS)
        ENGINE.load(connection, TRACKS, _events(0, 70))
        deleted = ENGINE.delete(
            connection, "tracks", "martech_events", "user_id", ["u1", "u2", "nobody"]
        )
    assert deleted == 20
    left = dbx.sql(
        "SELECT count(*) FROM analytics.martech_events.tracks WHERE user_id IN ('u1', 'u2')"
    )
    assert left == [(0,)]


def test_a_failing_write_is_a_400_query_failed(dbx):
    def delete_from_a_missing_table():
        with ENGINE.writing(credentials(dbx)) as connection:
            ENGINE.delete(connection, "missing", "martech_events", "user_id", ["u1"])

    error = refused(delete_from_a_missing_table)
    assert error.code == SyncsErrorCode.QUERY_FAILED
    assert TOKEN not in error.message


# -- models ----------------------------------------------------------------------------------

MODEL = "SELECT id, email, ltv, churn_risk, signed_up FROM customers WHERE ltv >= 100"


def test_preview_shows_a_models_first_rows_and_column_types(dbx):
    preview = ENGINE.preview(credentials(dbx), MODEL, timeout=30, limit=3)
    assert [c["name"] for c in preview.columns] == ["id", "email", "ltv", "churn_risk", "signed_up"]
    assert [c["type"] for c in preview.columns] == [
        "STRING",
        "STRING",
        "INT",
        "DOUBLE",
        "TIMESTAMP",
    ]
    assert len(preview.rows) == 3
    assert {row[0] for row in preview.rows} <= {f"c{i:04d}" for i in range(10, 120)}


def test_check_key_counts_rows_empty_keys_and_duplicates(dbx):
    dbx.sql("INSERT INTO customers VALUES ('c0011', 'x@acme.example', 1, 0, NULL)")
    dbx.sql("INSERT INTO customers VALUES (NULL, 'y@acme.example', 2, 0, NULL)")
    dbx.sql("INSERT INTO customers VALUES ('  ', 'z@acme.example', 3, 0, NULL)")
    check = ENGINE.check_key(credentials(dbx), "SELECT * FROM customers", "id", timeout=30)
    assert check.rows == 123
    assert check.nulls == 2
    assert check.duplicates == [("c0011", 2)]
    assert not check.ok


def _fingerprints(dbx) -> dict[str, bytes]:
    pages = ENGINE.stream_keyed(
        credentials(dbx),
        "SELECT id, email, ltv FROM customers",
        "id",
        ["email", "ltv"],
        timeout=30,
    )
    return {row[0]: row[1] for _extra, page in pages for row in page}


def test_stream_keyed_yields_every_row_in_byte_order_with_a_fingerprint(dbx):
    dbx.sql("INSERT INTO customers VALUES ('C9999', 'upper@acme.example', 5, 0, NULL)")
    dbx.sql("INSERT INTO customers VALUES ('é-accent', 'e@acme.example', 6, 0, NULL)")
    batches = list(
        ENGINE.stream_keyed(
            credentials(dbx),
            "SELECT id, email, ltv FROM customers",
            "id",
            ["email", "ltv"],
            timeout=30,
            batch=50,
        )
    )
    rows = [row for _extra, page in batches for row in page]
    assert {extra for extra, _page in batches} == {2}
    assert len(batches) == 3  # streamed in pages of the batch size
    keys = [row[0] for row in rows]
    assert len(keys) == 122
    assert keys == sorted(keys, key=lambda k: k.encode())  # byte order: C9999 < c0000 < é
    assert keys[0] == "C9999"
    assert keys[-1] == "é-accent"
    prints = {row[0]: row[1] for row in rows}
    assert all(isinstance(p, bytes) and len(p) == 16 for p in prints.values())
    assert len(set(prints.values())) == 122
    # the same values give the same fingerprint; a changed value another one
    assert _fingerprints(dbx) == prints
    dbx.sql("UPDATE customers SET ltv = 7 WHERE id = 'c0003'")
    changed = _fingerprints(dbx)
    assert [k for k in prints if changed[k] != prints[k]] == ["c0003"]


def test_a_model_running_past_the_statement_timeout_is_a_400(dbx):
    dbx.sql("CREATE TABLE wide AS SELECT i FROM range(200000) AS t(i)")
    slow = "SELECT count(*) FROM wide AS a CROSS JOIN wide AS b WHERE hash(a.i * b.i) % 1009 = 7"
    error = refused(lambda: ENGINE.preview(credentials(dbx), slow, timeout=1))
    assert error.code == SyncsErrorCode.QUERY_FAILED
    assert "statement timeout" in error.message
    assert dbx.opened[-1]["STATEMENT_TIMEOUT"] == "1"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM system.access.audit",
        "SELECT * FROM analytics.information_schema.tables",
        "SELECT * FROM read_files('s3://bucket/people/')",
        "SELECT * FROM parquet.`s3://bucket/people/`",
        "DELETE FROM customers",
        "SELECT 1; DROP TABLE customers",
    ],
)
def test_a_model_that_is_not_a_plain_read_is_refused_before_the_warehouse_sees_it(dbx, sql):
    error = refused(lambda: ENGINE.preview(credentials(dbx), sql, timeout=5))
    assert error.code == SyncsErrorCode.INVALID_SQL
    assert dbx.statements == []


# -- through the console ---------------------------------------------------------------------


def test_a_sync_from_databricks_sends_every_row_then_only_what_changed(
    admin, dbx, tool, webhook_vendor
):
    # given a Databricks warehouse connected as people do, a model on it and a sync
    dbx.sql("CREATE TABLE people (id VARCHAR, email VARCHAR, name VARCHAR, ltv INTEGER)")
    dbx.sql(
        "INSERT INTO people SELECT 'p' || i, 'person' || i || '@acme.example', "
        "'Person ' || i, i FROM range(3) AS t(i)"
    )
    warehouse = services.warehouse_create(
        actor=admin, name="Lakehouse", kind="databricks", credentials=given(dbx)
    )
    model = services.model_create(
        actor=admin,
        name="People",
        warehouse=warehouse,
        primary_key="id",
        sql="SELECT id, email, name, ltv FROM people",
    )
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))

    # when it runs, then every row goes
    first = run_now(admin, sync)
    assert first.status == RunStatus.SUCCEEDED, first.error
    assert first.added == 3
    assert sorted(r["fields"]["full_name"] for r in sent_rows(webhook_vendor)) == [
        "Person 0",
        "Person 1",
        "Person 2",
    ]

    # when one row changes in Databricks, then the next run sends that row only
    webhook_vendor.clear()
    dbx.sql("UPDATE people SET name = 'Person One' WHERE id = 'p1'")
    second = run_now(admin, sync)
    assert (second.added, second.changed, second.unchanged) == (0, 1, 2)
    assert [r["fields"]["full_name"] for r in sent_rows(webhook_vendor)] == ["Person One"]


def test_events_land_in_databricks_tables_once_by_merge(client, admin, tool, dbx):
    # given a warehouse destination on Databricks and three collected events
    warehouse = services.warehouse_create(
        actor=admin, name="Lakehouse", kind="databricks", credentials=given(dbx)
    )
    destination = destination_services.destination_create(
        actor=admin,
        name="Event warehouse",
        adapter="warehouse",
        tool=tool,
        environment="sandbox",
        config={"warehouse": str(warehouse.pk), "schema": "martech_events"},
        sends="both",
        is_enabled=True,
    )
    _, raw = events.source_create(actor=admin, name="Web", rate_limit=10_000)
    batch = [
        {
            "type": "track",
            "event": "Order Completed",
            "messageId": f"m{n}",
            "anonymousId": "visitor-1",
            "properties": {"revenue": n * 10, "orderId": f"o-{n}"},
        }
        for n in (1, 2)
    ] + [
        {
            "type": "identify",
            "messageId": "i1",
            "anonymousId": "visitor-1",
            "userId": "u-1",
            "traits": {"email": "ana@acme.example", "plan": "pro"},
        }
    ]
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    answer = client.post(
        "/v1/batch",
        json.dumps({"batch": batch}),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert answer.status_code == 200
    assert process_waiting() == 3

    # when the destination loads, twice (the second as if the first were never recorded)
    first = loader.load(destination)
    WarehouseLoad.objects.all().delete()
    again = loader.load(destination)

    # then each table holds each event once, typed, written by MERGE
    assert first.status == LoadStatus.LOADED, first.error
    assert first.rows["order_completed"] == 2
    assert again.status == LoadStatus.LOADED, again.error
    assert again.rows["order_completed"] == 0
    assert dbx.sql(
        "SELECT id, revenue, order_id FROM analytics.martech_events.order_completed ORDER BY id"
    ) == [("m1", 10, "o-1"), ("m2", 20, "o-2")]
    assert dbx.sql("SELECT id, plan FROM analytics.martech_events.users") == [("u-1", "pro")]
    assert any(s.startswith("MERGE INTO `martech_events`.`tracks`") for s in dbx.statements)
