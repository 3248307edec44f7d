"""Google BigQuery through ``google-cloud-bigquery`` itself, against a loopback BigQuery that
speaks the REST API and Google's token endpoint and runs the SQL on DuckDB
(``fakes/bigquery.py``)."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from apps.syncs.errors import SyncsErrorCode
from apps.syncs.warehouses import engine_for, kinds
from apps.syncs.warehouses.base import Column, Table
from martech.common.egress import EgressRefused
from martech.common.errors import ApplicationError
from tests.syncs.warehouses.fakes.bigquery import FakeBigQuery

DATASET = "analytics"


@pytest.fixture
def engine():
    return engine_for("bigquery")


@pytest.fixture
def fake(settings):
    with FakeBigQuery() as server:
        server.execute("CREATE SCHEMA analytics")
        server.execute(
            "CREATE TABLE analytics.customers AS SELECT 'c' || i AS id, "
            "'person' || i || '@acme.example' AS email, i * 10 AS ltv FROM range(25) t(i)"
        )
        settings.MARTECH_BIGQUERY_API_ENDPOINT = server.api_endpoint
        settings.MARTECH_BIGQUERY_TOKEN_URIS = [server.token_uri]
        yield server


def _given(key: dict, **changes) -> dict[str, str]:
    return {
        "project_id": "acme-analytics",
        "location": "EU",
        "dataset": DATASET,
        "service_account_json": json.dumps(key),
        **changes,
    }


@pytest.fixture
def credentials(engine, fake):
    return engine.clean(_given(fake.service_account())).credentials


@pytest.fixture
def editor(engine, fake):
    return engine.clean(_given(fake.service_account("martech-loader", role="editor"))).credentials


def _pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _refused(call) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call()
    assert caught.value.status == 400
    return caught.value


# -- credentials -------------------------------------------------------------------------------


def test_bigquery_is_a_kind_a_warehouse_may_have():
    assert ("bigquery", "Google BigQuery") in kinds()


def test_a_saved_key_keeps_what_signs_in_and_is_never_shown(engine, fake):
    key = fake.service_account()
    cleaned = engine.clean(_given(key, location="eu"))
    stored = json.loads(cleaned.credentials["service_account_json"])
    assert stored["private_key"] == key["private_key"]
    assert stored["client_email"] == key["client_email"]
    assert "auth_provider_x509_cert_url" not in stored
    assert cleaned.credentials["location"] == "EU"
    assert cleaned.display == f"acme-analytics.{DATASET} (EU) as {key['client_email']}"
    assert "PRIVATE KEY" not in cleaned.display


def test_a_key_left_blank_keeps_the_stored_one(engine, credentials):
    again = engine.clean(_given({}, service_account_json="", dataset="crm"), previous=credentials)
    assert again.credentials["service_account_json"] == credentials["service_account_json"]
    assert again.credentials["dataset"] == "crm"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("project_id", "Acme Analytics"),
        ("project_id", "ab"),
        ("location", "mars"),
        ("dataset", "analytics.customers"),
        ("maximum_bytes_billed", "lots"),
        ("maximum_bytes_billed", "1000"),
    ],
)
def test_a_malformed_field_is_refused_naming_it(engine, fake, field, value):
    error = _refused(lambda: engine.clean(_given(fake.service_account(), **{field: value})))
    assert error.code == SyncsErrorCode.INVALID_CREDENTIALS
    assert error.details["field"] == field


def _broken(key: dict, case: str) -> str:
    if case == "not json":
        return "{not json"
    if case == "user credentials":
        return json.dumps({**key, "type": "authorized_user"})
    if case == "not a pem key":
        return json.dumps({**key, "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END"})
    if case == "not an rsa key":
        return json.dumps({**key, "private_key": _pem(ec.generate_private_key(ec.SECP256R1()))})
    if case == "a short rsa key":
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - refused
        return json.dumps({**key, "private_key": _pem(small)})
    if case == "not a service account email":
        return json.dumps({**key, "client_email": "someone@gmail.com"})
    return json.dumps({**key, "token_uri": "https://tokens.attacker.example/token"})


@pytest.mark.parametrize(
    "case",
    [
        "not json",
        "user credentials",
        "not a pem key",
        "not an rsa key",
        "a short rsa key",
        "not a service account email",
        "a token uri that is not google's",
    ],
)
def test_a_key_that_cannot_be_a_service_accounts_is_refused_without_repeating_it(
    engine, fake, case
):
    key = fake.service_account()
    given = _given(key, service_account_json=_broken(key, case))
    error = _refused(lambda: engine.clean(given))
    assert error.code == SyncsErrorCode.INVALID_CREDENTIALS
    assert error.details["field"] == "service_account_json"
    assert "PRIVATE KEY" not in error.message
    assert key["private_key_id"] not in error.message


def test_googles_own_token_uri_is_accepted_without_a_setting(engine, fake, settings):
    settings.MARTECH_BIGQUERY_TOKEN_URIS = []
    key = {**fake.service_account(), "token_uri": "https://oauth2.googleapis.com/token"}
    cleaned = engine.clean(_given(key))
    assert engine.endpoints(cleaned.credentials)[1] == ("oauth2.googleapis.com", 443)


def test_a_token_uri_the_setting_allows_is_still_refused_on_a_metadata_address(
    engine, fake, settings
):
    settings.MARTECH_BIGQUERY_TOKEN_URIS = ["http://169.254.169.254/token"]
    key = {**fake.service_account(), "token_uri": "http://169.254.169.254/token"}
    with pytest.raises(EgressRefused):
        engine.clean(_given(key))


# -- connecting ------------------------------------------------------------------------------


def test_the_connection_test_signs_in_at_the_token_uri_and_names_the_dataset(
    engine, fake, credentials
):
    with engine.reading(credentials, timeout=30) as connection:
        described = engine.version(connection)
    assert described == f"Google BigQuery, dataset acme-analytics.{DATASET} (EU)"
    paths = [(r.method, r.path) for r in fake.received]
    assert paths[0] == ("POST", "/token")
    assert ("GET", f"/bigquery/v2/projects/acme-analytics/datasets/{DATASET}") in paths
    query = next(r.body for r in fake.received if r.path.endswith("/queries"))
    assert query["jobTimeoutMs"] == "30000"
    assert query["defaultDataset"] == {"projectId": "acme-analytics", "datasetId": DATASET}


def test_a_dataset_the_account_cannot_see_fails_the_connection_test(engine, fake, credentials):
    missing = {**credentials, "dataset": "nowhere"}
    with engine.reading(missing, timeout=30) as connection:
        error = _refused(lambda: engine.version(connection))
    assert error.code == SyncsErrorCode.WAREHOUSE_UNREACHABLE
    assert "nowhere" in error.message


def test_a_key_google_does_not_know_is_a_400_that_repeats_no_secret(engine, fake, credentials):
    key = json.loads(credentials["service_account_json"])
    other = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    stale = {**credentials, "service_account_json": json.dumps({**key, "private_key": other})}
    error = _refused(lambda: engine.reading(stale, timeout=30).__enter__())
    assert error.code == SyncsErrorCode.WAREHOUSE_LOGIN_REFUSED
    assert "Invalid JWT Signature" in error.message
    assert "PRIVATE KEY" not in error.message
    assert [r.path for r in fake.received] == ["/token"]
    assert not fake.tokens


def test_a_token_uri_nobody_answers_is_a_400_saying_bigquery_is_unreachable(
    engine, fake, credentials, settings
):
    closed = "http://127.0.0.1:9/token"
    settings.MARTECH_BIGQUERY_TOKEN_URIS = [closed]
    key = json.loads(credentials["service_account_json"])
    moved = {**credentials, "service_account_json": json.dumps({**key, "token_uri": closed})}
    error = _refused(lambda: engine.reading(moved, timeout=30).__enter__())
    assert error.code == SyncsErrorCode.WAREHOUSE_UNREACHABLE
    assert "PRIVATE KEY" not in error.message


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("MARTECH_BIGQUERY_API_ENDPOINT", "http://10.20.30.40:9050"),
        ("MARTECH_BIGQUERY_API_ENDPOINT", "http://169.254.169.254"),
    ],
)
def test_an_api_endpoint_the_egress_policy_refuses_is_never_reached(
    engine, fake, credentials, settings, setting, value
):
    setattr(settings, setting, value)
    with pytest.raises(EgressRefused):
        engine.reading(credentials, timeout=30).__enter__()
    assert fake.received == []


def test_a_stored_token_uri_on_a_private_address_is_refused_before_signing_in(
    engine, fake, credentials, settings
):
    settings.MARTECH_BIGQUERY_TOKEN_URIS = [fake.token_uri, "http://10.0.0.7/token"]
    key = json.loads(credentials["service_account_json"])
    moved = {
        **credentials,
        "service_account_json": json.dumps({**key, "token_uri": "http://10.0.0.7/token"}),
    }
    with pytest.raises(EgressRefused):
        engine.reading(moved, timeout=30).__enter__()
    assert fake.received == []


def test_the_connectors_own_requests_go_only_where_the_egress_policy_allows(settings):
    from apps.syncs.warehouses.bigquery import egress_session

    settings.MARTECH_EGRESS_ALLOW = []
    session = egress_session()
    for url in ("http://127.0.0.1:9/token", "http://169.254.169.254/computeMetadata/v1/"):
        with pytest.raises(EgressRefused):
            session.get(url, timeout=5)


# -- reading -----------------------------------------------------------------------------------


def test_a_model_preview_shows_rows_and_bigquery_types(engine, fake, credentials):
    preview = engine.preview(
        credentials,
        "SELECT id, ltv, ltv > 100 AS big FROM customers ORDER BY ltv",
        timeout=30,
        limit=3,
    )
    assert preview.columns == [
        {"name": "id", "type": "STRING"},
        {"name": "ltv", "type": "INTEGER"},
        {"name": "big", "type": "BOOLEAN"},
    ]
    assert preview.rows == [("c0", 0, False), ("c1", 10, False), ("c2", 20, False)]


def test_a_model_with_arrays_previews_and_streams_with_fingerprints(engine, fake, credentials):
    sql = (
        "SELECT id, tags FROM UNNEST([STRUCT('a' AS id, ['vip', 'eu'] AS tags), "
        "STRUCT('b' AS id, CAST([] AS ARRAY<STRING>) AS tags)])"
    )
    preview = engine.preview(credentials, sql, timeout=30)
    assert sorted(preview.rows) == [("a", ["vip", "eu"]), ("b", [])]
    rows = [
        r
        for _e, rs in engine.stream_keyed(credentials, sql, "id", ["tags"], timeout=30)
        for r in rs
    ]
    assert [r[0] for r in rows] == ["a", "b"]
    assert rows[0][1] != rows[1][1]
    assert rows[0][2:] == ("a", ["vip", "eu"])


def test_a_model_runs_with_its_percent_signs_as_written(engine, fake, credentials):
    preview = engine.preview(credentials, "SELECT 'a%%b' AS code, '50%' AS share", timeout=30)
    assert preview.rows == [("a%%b", "50%")]


def test_a_model_that_writes_or_reads_the_catalog_is_refused_before_it_is_sent(
    engine, fake, credentials
):
    for sql in (
        "DELETE FROM analytics.customers WHERE TRUE",
        "SELECT * FROM analytics.INFORMATION_SCHEMA.TABLES",
        "SELECT * FROM `region-eu`.INFORMATION_SCHEMA.JOBS",
    ):
        error = _refused(lambda sql=sql: engine.preview(credentials, sql, timeout=30))
        assert error.code == SyncsErrorCode.INVALID_SQL
    assert fake.jobs == {}


def test_a_failing_model_is_a_400_with_bigquerys_reason(engine, fake, credentials):
    error = _refused(lambda: engine.preview(credentials, "SELECT nope FROM customers", timeout=30))
    assert error.code == SyncsErrorCode.QUERY_FAILED
    assert "nope" in error.message
    assert "http://" not in error.message


def test_check_key_counts_empty_and_duplicated_keys(engine, fake, credentials):
    fake.execute(
        "CREATE TABLE analytics.people AS SELECT * FROM (VALUES ('a'), ('b'), ('b'), (NULL), "
        "(' '), ('c'), ('c'), ('c')) t(id)"
    )
    check = engine.check_key(credentials, "SELECT id FROM people", "id", timeout=30)
    assert (check.rows, check.nulls) == (8, 2)
    assert check.duplicates == [("c", 3), ("b", 2)]
    assert not check.ok


def test_rows_stream_in_byte_order_of_the_key_with_fingerprints_of_the_values(
    engine, fake, credentials
):
    fake.execute(
        "CREATE TABLE analytics.keyed AS SELECT * FROM (VALUES ('b', 'x', 1), ('B', 'x', 1), "
        "('a', NULL, 2), ('c10', '', 3), ('c2', 'y', NULL), ('é', 'z', 4)) t(id, name, n)"
    )
    sql = "SELECT id, name, n FROM keyed"

    def stream():
        out = []
        for extra, rows in engine.stream_keyed(
            credentials, sql, "id", ["name", "n"], timeout=30, batch=2
        ):
            assert extra == 2
            out.extend(rows)
        return out

    rows = stream()
    assert [row[0] for row in rows] == ["B", "a", "b", "c10", "c2", "é"]
    prints = {row[0]: row[1] for row in rows}
    assert all(isinstance(p, bytes) and len(p) == 16 for p in prints.values())
    assert prints["B"] == prints["b"]  # same values, same fingerprint
    assert len(set(prints.values())) == 5  # null, empty and values all differ
    assert rows[0][2:] == ("B", "x", 1)
    fake.execute("UPDATE analytics.keyed SET n = 5 WHERE id = 'b'")
    again = {row[0]: row[1] for row in stream()}
    assert again["b"] != prints["b"]
    assert {k: v for k, v in again.items() if k != "b"} == {
        k: v for k, v in prints.items() if k != "b"
    }


def test_a_model_of_many_pages_streams_in_key_order_page_by_page(engine, fake, credentials):
    fake.execute(
        "CREATE TABLE analytics.many AS SELECT printf('k%06d', i) AS id, i AS n "
        "FROM range(12000) t(i) ORDER BY random()"
    )
    keys = []
    for _extra, rows in engine.stream_keyed(
        credentials, "SELECT id, n FROM many", "id", ["n"], timeout=30, batch=1000
    ):
        assert len(rows) <= 1000
        keys.extend(row[0] for row in rows)
    assert keys == [f"k{i:06d}" for i in range(12000)]
    pages = [r for r in fake.received if r.method == "GET" and "/queries/" in r.path]
    assert [r.query.get("pageToken") for r in pages[-2:]] == [["5000"], ["10000"]]


def test_a_model_past_the_statement_timeout_is_stopped_by_bigquery(engine, fake, credentials):
    fake.execute("CREATE TABLE analytics.big AS SELECT i AS n FROM range(200000) t(i)")
    started = time.monotonic()
    error = _refused(
        lambda: engine.check_key(
            credentials,
            "SELECT a.n AS id FROM big AS a CROSS JOIN big AS b "
            "WHERE LENGTH(CONCAT(CAST(a.n AS STRING), CAST(b.n AS STRING))) > 100",
            "id",
            timeout=1,
        )
    )
    assert error.code == SyncsErrorCode.QUERY_FAILED
    assert "timed out" in error.message
    assert time.monotonic() - started < 10


def test_the_maximum_bytes_billed_refuses_a_query_that_would_bill_more(engine, fake, credentials):
    fake.execute("CREATE TABLE analytics.wide AS SELECT i AS n FROM range(2000000) t(i)")
    capped = {**credentials, "maximum_bytes_billed": str(10 * 1024 * 1024)}
    error = _refused(lambda: engine.preview(capped, "SELECT n FROM wide", timeout=30))
    assert error.code == SyncsErrorCode.QUERY_FAILED
    assert "bytes billed" in error.message
    assert engine.preview(capped, "SELECT id FROM customers", timeout=30, limit=1).rows


# -- loading and deleting ------------------------------------------------------------------------

EVENTS = Table(
    schema="martech_events",
    name="tracks",
    columns=(
        Column("message_id", "string"),
        Column("event", "string"),
        Column("value", "float"),
        Column("sent_at", "timestamp"),
    ),
    key="message_id",
)


def _batch(start: int, n: int) -> list[tuple]:
    at = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    return [
        (f"m{i}", "Order Completed", i * 1.5, at + dt.timedelta(minutes=i))
        for i in range(start, start + n)
    ]


def test_a_load_creates_the_table_and_writes_each_message_once(engine, fake, editor):
    with engine.writing(editor) as connection:
        assert engine.ensure(connection, EVENTS) == []
        assert engine.load(connection, EVENTS, _batch(0, 30)) == 30
        assert engine.load(connection, EVENTS, _batch(20, 20) + _batch(39, 1)) == 10
    rows = fake.execute(
        "SELECT count(*), count(DISTINCT message_id), max(value) FROM martech_events.tracks"
    )
    assert rows == [(40, 40, 39 * 1.5)]
    sent = fake.execute("SELECT sent_at FROM martech_events.tracks WHERE message_id = 'm3'")[0][0]
    assert sent == dt.datetime(2026, 12, 1, 9, 33, tzinfo=dt.UTC)
    uploads = [r for r in fake.received if r.path.startswith("/upload/")]
    assert len(uploads) == 2
    assert all(r.query["uploadType"] == ["multipart"] for r in uploads)
    stages = fake.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'martech_events'"
    )
    assert stages == [("tracks",)]


def test_ensure_adds_new_columns_and_keeps_the_old(engine, fake, editor):
    wider = Table(
        schema=EVENTS.schema,
        name=EVENTS.name,
        columns=(
            *EVENTS.columns,
            Column("context_page_url", "string"),
            Column("properties", "json"),
        ),
        key="message_id",
    )
    with engine.writing(editor) as connection:
        engine.ensure(connection, EVENTS)
        engine.load(connection, EVENTS, _batch(0, 2))
        added = engine.ensure(connection, wider)
        assert [c.name for c in added] == ["context_page_url", "properties"]
        assert engine.ensure(connection, wider) == []
        engine.load(
            connection,
            wider,
            [("m9", "Signed Up", None, None, "https://acme.example/", '{"plan": "pro"}')],
        )
    columns = fake.table_fields("martech_events", "tracks")
    assert [(c["name"], c["type"]) for c in columns] == [
        ("message_id", "STRING"),
        ("event", "STRING"),
        ("value", "FLOAT"),
        ("sent_at", "TIMESTAMP"),
        ("context_page_url", "STRING"),
        ("properties", "JSON"),
    ]
    assert fake.execute(
        "SELECT context_page_url, properties->>'plan' FROM martech_events.tracks "
        "WHERE message_id = 'm9'"
    ) == [("https://acme.example/", "pro")]


def test_tables_reads_back_the_datasets_columns_as_the_console_types_them(engine, fake, editor):
    with engine.writing(editor) as connection:
        assert engine.tables(connection, "martech_events") == {}
        engine.ensure(connection, EVENTS)
        engine.load(connection, EVENTS, _batch(0, 1))
        fake.execute("CREATE TABLE martech_events.pages (id BIGINT, tags VARCHAR[], ok BOOLEAN)")
        assert engine.tables(connection, "martech_events") == {
            "pages": {"id": "integer", "tags": "json", "ok": "boolean"},
            "tracks": {
                "message_id": "string",
                "event": "string",
                "value": "float",
                "sent_at": "timestamp",
            },
        }


def test_delete_removes_the_rows_of_the_identifiers_given(engine, fake, editor):
    with engine.writing(editor) as connection:
        engine.ensure(connection, EVENTS)
        engine.load(connection, EVENTS, _batch(0, 10))
        deleted = engine.delete(
            connection, "tracks", "martech_events", "message_id", ["m1", "m4", "nobody"]
        )
    assert deleted == 2
    left = fake.execute("SELECT message_id FROM martech_events.tracks ORDER BY message_id")
    assert [r[0] for r in left] == ["m0", "m2", "m3", "m5", "m6", "m7", "m8", "m9"]


def test_an_account_that_may_only_read_cannot_load(engine, fake, credentials):
    with pytest.raises(ApplicationError) as caught, engine.writing(credentials) as connection:
        engine.ensure(connection, EVENTS)
    assert caught.value.code == SyncsErrorCode.WAREHOUSE_LOGIN_REFUSED
    assert "bigquery.datasets.create" in caught.value.message


# -- through the console's API -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bigquery_warehouse_connected_by_api_passes_its_test_and_never_shows_the_key(
    admin_api, fake
):
    key = fake.service_account()
    created = admin_api.post(
        "/api/v1/warehouses/",
        {"name": "Analytics", "kind": "bigquery", "credentials": _given(key)},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert key["private_key_id"] not in created.content.decode()
    assert created.json()["display"] == f"acme-analytics.{DATASET} (EU) as {key['client_email']}"
    tested = admin_api.post(f"/api/v1/warehouses/{created.json()['id']}/test/")
    assert tested.status_code == 200
    assert tested.json()["ok"] is True, tested.json()
    shown = admin_api.get(f"/api/v1/warehouses/{created.json()['id']}/").content.decode()
    assert "PRIVATE KEY" not in shown
    assert key["private_key_id"] not in shown


@pytest.mark.django_db
def test_a_bigquery_key_that_is_not_a_pem_key_is_a_400_by_api(admin_api, fake):
    key = {**fake.service_account(), "private_key": "not a key"}
    answer = admin_api.post(
        "/api/v1/warehouses/",
        {"name": "Analytics", "kind": "bigquery", "credentials": _given(key)},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == SyncsErrorCode.INVALID_CREDENTIALS
