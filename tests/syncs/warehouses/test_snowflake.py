"""Snowflake: the real ``snowflake-connector-python`` talking to a Snowflake account on
loopback (fakesnow's server mode, executing on DuckDB, with Snowflake's login checks, a
read-only role and the statement timeout: ``fakesnow/serve.py``), started once for this
module from its own environment (``make fakesnow``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from apps.syncs.errors import SyncsErrorCode
from apps.syncs.warehouses import engine_for, kinds
from apps.syncs.warehouses.base import Column, Table
from apps.syncs.warehouses.snowflake import ENGINE
from martech.common.egress import EgressRefused
from martech.common.errors import ApplicationError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
PYTHON = ROOT / ".tools" / "fakesnow" / "bin" / "python"
ACCOUNT = "acme-analytics"
LOADER_PASSWORD = "loader-password-0123"
ANALYST_PASSWORD = "analyst-password-4567"


def _pem(key: rsa.RSAPrivateKey, passphrase: bytes | None = None) -> str:
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SHORT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505


class FakeSnowflake:
    def __init__(self, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def admin(self):
        """The account's loader (a role that may write): it makes the tables the tests read."""
        return snowflake.connector.connect(
            account=ACCOUNT,
            user="loader",
            password=LOADER_PASSWORD,
            role="LOADER",
            database="ANALYTICS",
            schema="MARTS",
            host="127.0.0.1",
            port=self.port,
            protocol="http",
            platform_detection_timeout_seconds=0.0,
            session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        )

    def logins(self) -> int:
        with urllib.request.urlopen(f"{self.url}/fake/logins", timeout=5) as answer:  # noqa: S310
            return json.load(answer)["attempts"]


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    if not PYTHON.exists():
        if os.environ.get("CI"):
            pytest.fail("The test Snowflake is not installed: run `make fakesnow`.")
        pytest.skip("The test Snowflake is not installed: run `make fakesnow`.")
    public = (
        KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    folder = tmp_path_factory.mktemp("fakesnow")
    config = folder / "account.json"
    config.write_text(
        json.dumps(
            {
                "account": ACCOUNT,
                "users": {
                    "loader": {"password": LOADER_PASSWORD, "roles": ["LOADER"]},
                    "reporter": {"public_key": public, "roles": ["REPORTER"]},
                    "analyst": {"password": ANALYST_PASSWORD, "roles": ["REPORTER"]},
                },
                "read_only_roles": ["REPORTER"],
            }
        )
    )
    with (folder / "server.log").open("w") as log:
        process = subprocess.Popen(
            [str(PYTHON), str(HERE / "fakesnow" / "serve.py"), str(config)],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=folder,
        )
    try:
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            pytest.fail(f"The test Snowflake did not start: {(folder / 'server.log').read_text()}")
        server = FakeSnowflake(int(line.split()[1]))
        with server.admin() as conn:
            cursor = conn.cursor()
            cursor.execute("CREATE SCHEMA IF NOT EXISTS ANALYTICS.MARTS")
            cursor.execute(
                "CREATE OR REPLACE TABLE customers (id VARCHAR, email VARCHAR, ltv NUMBER(10, 2), "
                "churn_risk FLOAT, signed_up TIMESTAMP_NTZ)"
            )
            cursor.execute(
                "INSERT INTO customers VALUES "
                "('c10', 'ana@acme.example', 1250.50, 0.12, '2026-01-04 09:30:00'), "
                "('c2', 'ben@acme.example', 80.00, 0.71, '2026-02-11 17:05:00'), "
                "('c3', NULL, 0, NULL, NULL)"
            )
        yield server
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def account(fake, settings):
    """The fake as every Snowflake connection's address (an operator's setting)."""
    settings.MARTECH_SNOWFLAKE_URL = fake.url
    return fake


def key_pair(**extra) -> dict[str, str]:
    return {
        "account": ACCOUNT,
        "user": "reporter",
        "role": "REPORTER",
        "warehouse": "REPORTING",
        "database": "ANALYTICS",
        "schema": "MARTS",
        "private_key": _pem(KEY),
        **extra,
    }


def with_password(**extra) -> dict[str, str]:
    return {
        "account": ACCOUNT,
        "user": "analyst",
        "role": "REPORTER",
        "warehouse": "REPORTING",
        "database": "ANALYTICS",
        "schema": "MARTS",
        "password": ANALYST_PASSWORD,
        **extra,
    }


# -- registry and credentials ---------------------------------------------------------------


def test_snowflake_is_a_kind_of_warehouse_found_by_its_kind():
    assert engine_for("snowflake") is ENGINE
    assert ("snowflake", "Snowflake") in kinds()


def test_clean_keeps_a_key_pair_and_shows_no_secret(settings):
    settings.MARTECH_SNOWFLAKE_URL = "http://127.0.0.1:9"
    cleaned = ENGINE.clean(key_pair(account=" https://ACME-Analytics.snowflakecomputing.com/ "))
    assert cleaned.credentials["account"] == "acme-analytics"
    assert cleaned.credentials["private_key"] == _pem(KEY).strip()
    assert "password" not in cleaned.credentials
    assert cleaned.display == "acme-analytics · reporter · REPORTER · ANALYTICS.MARTS"
    assert "PRIVATE" not in cleaned.display


def test_clean_keeps_the_previous_key_when_it_is_left_blank(settings):
    settings.MARTECH_SNOWFLAKE_URL = "http://127.0.0.1:9"
    passphrase = "correct horse"
    previous = ENGINE.clean(
        key_pair(private_key=_pem(KEY, passphrase.encode()), private_key_passphrase=passphrase)
    ).credentials
    again = ENGINE.clean(key_pair(private_key="", user="reporter"), previous).credentials
    assert again["private_key"] == previous["private_key"]
    assert again["private_key_passphrase"] == passphrase
    # A password given instead replaces the key pair.
    switched = ENGINE.clean(with_password(), previous).credentials
    assert switched["password"] == ANALYST_PASSWORD
    assert "private_key" not in switched
    assert "private_key_passphrase" not in switched


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"private_key": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}, "private_key", "PEM"),
        (
            {"private_key": "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----"},
            "private_key",
            "could not be read",
        ),
        ({"private_key": _pem(KEY, b"secret words")}, "private_key_passphrase", "encrypted"),
        (
            {"private_key": _pem(KEY, b"secret words"), "private_key_passphrase": "wrong words"},
            "private_key_passphrase",
            "does not open",
        ),
        (
            {"private_key": _pem(SHORT_KEY)},
            "private_key",
            "2048",
        ),
        ({"private_key": ""}, "private_key", "private key"),
        ({"account": "acme analytics"}, "account", "orgname-accountname"),
        ({"account": "acme/../x"}, "account", "orgname-accountname"),
        ({"role": "READ ONLY; DROP"}, "role", "role name"),
        ({"warehouse": ""}, "warehouse", "warehouse name"),
        ({"user": ""}, "user", "user"),
    ],
)
def test_clean_refuses_what_snowflake_would_not_take_naming_the_field(
    settings, change, field, words
):
    settings.MARTECH_SNOWFLAKE_URL = "http://127.0.0.1:9"
    with pytest.raises(ApplicationError) as refused:
        ENGINE.clean(key_pair(**change))
    assert refused.value.code == SyncsErrorCode.INVALID_CREDENTIALS
    assert refused.value.status == 400
    assert refused.value.details["field"] == field
    assert words in refused.value.message
    assert "secret words" not in refused.value.message
    assert "wrong words" not in refused.value.message


def test_the_account_names_the_host_a_connection_goes_to(settings):
    settings.MARTECH_SNOWFLAKE_URL = ""
    assert ENGINE.endpoints({"account": "acme-analytics"}) == [
        ("acme-analytics.snowflakecomputing.com", 443)
    ]
    assert ENGINE.endpoints({"account": "XY12345.us-east-2.aws"}) == [
        ("xy12345.us-east-2.aws.snowflakecomputing.com", 443)
    ]
    assert ENGINE.endpoints({"account": "acme_eu-analytics_prod"}) == [
        ("acme-eu-analytics-prod.snowflakecomputing.com", 443)
    ]
    assert ENGINE.endpoints({"account": "xy12345.cn-north-1.aws"}) == [
        ("xy12345.cn-north-1.aws.snowflakecomputing.cn", 443)
    ]


@pytest.mark.parametrize("url", ["http://169.254.169.254", "https://10.20.0.5:8443"])
def test_clean_refuses_an_address_the_egress_policy_refuses(settings, url):
    settings.MARTECH_EGRESS_ALLOW = []
    settings.MARTECH_SNOWFLAKE_URL = url
    with pytest.raises(EgressRefused):
        ENGINE.clean(key_pair())


# -- connecting ---------------------------------------------------------------------------


def test_a_key_pair_connection_test_names_the_server(account):
    with ENGINE.reading(key_pair(), timeout=30) as conn:
        assert ENGINE.version(conn).startswith("Snowflake ")


def test_a_password_connection_test_names_the_server(account):
    with ENGINE.reading(with_password(), timeout=30) as conn:
        assert ENGINE.version(conn).startswith("Snowflake ")


def test_an_encrypted_key_signs_in_with_its_passphrase(account):
    credentials = key_pair(
        private_key=_pem(KEY, b"open sesame"), private_key_passphrase="open sesame"
    )
    with ENGINE.reading(ENGINE.clean(credentials).credentials, timeout=30) as conn:
        assert ENGINE.version(conn).startswith("Snowflake ")


@pytest.mark.parametrize(
    ("credentials", "words"),
    [
        (with_password(password="not-the-password-99"), "user name or password"),
        (with_password(user="nobody"), "user name or password"),
        (key_pair(private_key=_pem(OTHER_KEY)), "key pair was refused"),
        (key_pair(role="LOADER"), "role is not granted"),
    ],
)
def test_credentials_snowflake_refuses_are_a_400_that_repeats_no_secret(
    account, credentials, words
):
    with pytest.raises(ApplicationError) as refused, ENGINE.reading(credentials, timeout=30):
        pass
    assert refused.value.status == 400
    assert refused.value.code == SyncsErrorCode.WAREHOUSE_LOGIN_REFUSED
    assert words in refused.value.message
    assert "not-the-password-99" not in refused.value.message
    assert "PRIVATE KEY" not in refused.value.message


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254", "http://10.0.0.8:8080", "http://metadata.google.internal"]
)
def test_a_refused_address_is_never_connected_to(account, settings, url):
    settings.MARTECH_EGRESS_ALLOW = []
    settings.MARTECH_SNOWFLAKE_URL = url
    with pytest.raises(EgressRefused), ENGINE.reading(key_pair(), timeout=30):
        pass


def test_the_egress_check_comes_before_the_connector_sends_anything(account, settings):
    before = account.logins()
    settings.MARTECH_EGRESS_ALLOW = []  # the fake's own loopback address is refused now
    with pytest.raises(EgressRefused), ENGINE.reading(key_pair(), timeout=30):
        pass
    assert account.logins() == before


def test_a_statement_longer_than_the_timeout_is_cancelled_by_snowflake(account):
    slow = "SELECT count(*) FROM " + ", ".join(f"customers t{i}" for i in range(40))  # noqa: S608
    with ENGINE.reading(key_pair(), timeout=1) as conn:
        cursor = conn.cursor()
        with pytest.raises(snowflake.connector.errors.ProgrammingError) as cancelled:
            cursor.execute(slow)
    assert cancelled.value.errno == 630


def test_the_reading_role_may_not_write(account):
    with ENGINE.reading(key_pair(), timeout=30) as conn:
        cursor = conn.cursor()
        with pytest.raises(snowflake.connector.errors.ProgrammingError) as refused:
            cursor.execute("DELETE FROM customers")
        assert refused.value.errno == 3001
        cursor.execute("SELECT count(*) FROM customers")
        assert cursor.fetchone() == (3,)


# -- reading models -----------------------------------------------------------------------------


def test_a_model_preview_shows_snowflake_columns_and_rows(account):
    preview = ENGINE.preview(
        key_pair(),
        "SELECT id, email, ltv, IFF(churn_risk > 0.5, 'at risk', 'healthy') AS health "
        "FROM customers ORDER BY id",
        timeout=30,
        limit=2,
    )
    assert [c["name"] for c in preview.columns] == ["ID", "EMAIL", "LTV", "HEALTH"]
    assert preview.columns[0]["type"] == "text"
    assert preview.columns[2]["type"] == "fixed"
    assert [row[0] for row in preview.rows] == ["c10", "c2"]
    assert preview.rows[1][3] == "at risk"


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM customers",
        "SELECT * FROM snowflake.account_usage.query_history",
        "SELECT * FROM @customer_stage",
        "SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))",
        "SELECT SYSTEM$GET_PRIVATELINK_CONFIG()",
        "SELECT 1; DROP TABLE customers",
    ],
)
def test_a_model_that_is_not_one_read_query_is_refused_before_snowflake_sees_it(account, sql):
    before = account.logins()
    with pytest.raises(ApplicationError) as refused:
        ENGINE.preview(key_pair(), sql, timeout=30)
    assert refused.value.code == SyncsErrorCode.INVALID_SQL
    assert account.logins() == before


def test_a_model_reads_flattened_variants_as_snowflake_models_do(account):
    preview = ENGINE.preview(
        key_pair(),
        "SELECT c.id, f.value::VARCHAR AS tag FROM customers c, "
        "LATERAL FLATTEN(input => ARRAY_CONSTRUCT('vip', 'eu')) f WHERE c.id = 'c2' ORDER BY 2",
        timeout=30,
    )
    assert preview.rows == [("c2", "eu"), ("c2", "vip")]


def test_check_key_counts_rows_empty_and_duplicated_keys(account):
    checked = ENGINE.check_key(
        key_pair(),
        "SELECT id FROM customers UNION ALL SELECT 'c2' UNION ALL SELECT NULL UNION ALL SELECT ' '",
        "ID",
        timeout=30,
    )
    assert (checked.rows, checked.nulls, checked.duplicates) == (6, 2, [("c2", 2)])
    assert not checked.ok


SYNCED = ["EMAIL", "LTV"]


def fingerprints(sql: str) -> list[bytes]:
    stream = ENGINE.stream_keyed(key_pair(), sql, "ID", SYNCED, timeout=30)
    return [row[1] for _, rows in stream for row in rows]


def test_the_stream_comes_in_key_order_with_a_fingerprint_of_the_synced_columns(account):
    sql = "SELECT id, email, ltv FROM customers"
    batches = list(
        ENGINE.stream_keyed(key_pair(), sql, "ID", ["EMAIL", "LTV"], timeout=30, batch=2)
    )
    assert [len(rows) for _, rows in batches] == [2, 1]
    assert {extra for extra, _ in batches} == {2}
    rows = [row for _, part in batches for row in part]
    assert [row[0] for row in rows] == ["c10", "c2", "c3"]  # as text, byte by byte
    prints = [row[1] for row in rows]
    assert all(isinstance(p, bytes) and len(p) == 16 for p in prints)
    assert len(set(prints)) == 3
    assert rows[0][2:] == ("c10", "ana@acme.example", Decimal("1250.50"))
    again = [
        row[1]
        for _, part in ENGINE.stream_keyed(key_pair(), sql, "ID", ["EMAIL", "LTV"], timeout=30)
        for row in part
    ]
    assert again == prints
    # Only the synced columns count: another column's change leaves the fingerprint alone.
    other = "SELECT id, email, ltv, CURRENT_TIMESTAMP() AS seen FROM customers"
    same = [
        row[1]
        for _, part in ENGINE.stream_keyed(key_pair(), other, "ID", ["EMAIL", "LTV"], timeout=30)
        for row in part
    ]
    assert same == prints


def test_a_model_longer_than_the_statement_timeout_is_a_400_saying_so(account):
    slow = "SELECT count(*) AS n FROM " + ", ".join(f"customers t{i}" for i in range(40))  # noqa: S608
    with pytest.raises(ApplicationError) as failed:
        ENGINE.preview(key_pair(), slow, timeout=1)
    assert failed.value.status == 400
    assert failed.value.code == SyncsErrorCode.QUERY_FAILED
    assert "statement timeout" in failed.value.message


def test_a_failing_model_is_a_400_with_snowflakes_reason(account):
    with pytest.raises(ApplicationError) as failed:
        ENGINE.preview(key_pair(), "SELECT nope FROM customers", timeout=30)
    assert failed.value.code == SyncsErrorCode.QUERY_FAILED
    assert failed.value.status == 400


# -- loading and deleting ---------------------------------------------------------------------


def loader(**extra) -> dict[str, str]:
    return with_password(user="loader", role="LOADER", password=LOADER_PASSWORD, **extra)


TRACKS = Table(
    schema="web_events",
    name="tracks",
    key="id",
    columns=(
        Column("id", "string"),
        Column("user_id", "string"),
        Column("event", "string"),
        Column("timestamp", "timestamp"),
    ),
)
WIDER = Table(
    schema=TRACKS.schema,
    name=TRACKS.name,
    key="id",
    columns=(*TRACKS.columns, Column("revenue", "float"), Column("products", "json")),
)
WHEN = dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC)


def test_ensure_creates_the_table_then_adds_only_the_columns_it_lacks(account):
    with ENGINE.writing(loader()) as conn:
        assert ENGINE.ensure(conn, dataclasses.replace(TRACKS, name="tracks_ensure")) == []
        assert ENGINE.ensure(conn, dataclasses.replace(TRACKS, name="tracks_ensure")) == []
        added = ENGINE.ensure(conn, dataclasses.replace(WIDER, name="tracks_ensure"))
        assert added == [Column("revenue", "float"), Column("products", "json")]
        cursor = conn.cursor()
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'WEB_EVENTS' AND table_name = 'TRACKS_ENSURE' "
            "ORDER BY ordinal_position"
        )
        assert [name for name, _ in cursor.fetchall()] == [
            "ID", "USER_ID", "EVENT", "TIMESTAMP", "REVENUE", "PRODUCTS",
        ]  # fmt: skip


def test_tables_names_the_loaded_tables_and_columns_as_the_console_does_with_their_types(account):
    table = dataclasses.replace(WIDER, name="tracks_known", columns=(*WIDER.columns,
        Column("qty", "integer"), Column("paid", "boolean")))  # fmt: skip
    with ENGINE.writing(loader()) as conn:
        ENGINE.ensure(conn, table)
        known = ENGINE.tables(conn, table.schema)

    assert known["tracks_known"] == {
        "id": "string",
        "user_id": "string",
        "event": "string",
        "timestamp": "timestamp",
        "revenue": "float",
        "products": "json",
        "qty": "integer",
        "paid": "boolean",
    }


def test_a_load_is_staged_and_copied_once_per_key_with_its_types(account):
    rows = [
        ("m1", "u1", "order_completed", WHEN, 12.5, [{"sku": "A-1", "qty": 2}]),
        ("m2", None, "signed_up", WHEN, None, None),
        ("m3", "u3", 'said "hi", then\nleft', WHEN, 0.0, {"empty": ""}),
        ("m3", "u3", "a second copy in the same batch", WHEN, 1.0, None),
        ("m4", "", "empty user id", WHEN, None, None),
    ]
    with ENGINE.writing(loader()) as conn:
        ENGINE.ensure(conn, WIDER)
        assert ENGINE.load(conn, WIDER, rows) == 4
        assert ENGINE.load(conn, WIDER, rows) == 0  # every key is loaded already
        assert ENGINE.load(conn, WIDER, [*rows, ("m5", "u5", "late", WHEN, 3.0, None)]) == 1
        cursor = conn.cursor()
        cursor.execute(
            "SELECT id, user_id, event, timestamp, revenue, products:sku::VARCHAR "
            "FROM web_events.tracks ORDER BY id"
        )
        loaded = cursor.fetchall()
    assert [row[0] for row in loaded] == ["m1", "m2", "m3", "m4", "m5"]
    assert loaded[1][1] is None
    assert loaded[2][2] == 'said "hi", then\nleft'
    assert loaded[3][1] == ""
    assert loaded[0][3] == WHEN
    assert loaded[0][4] == 12.5


def test_delete_removes_the_rows_of_the_named_people_only(account):
    table = dataclasses.replace(TRACKS, name="tracks_erasure")
    rows = [(f"m{i}", f"u{i % 3}", "viewed", WHEN) for i in range(9)]
    with ENGINE.writing(loader()) as conn:
        ENGINE.ensure(conn, table)
        ENGINE.load(conn, table, rows)
        deleted = ENGINE.delete(conn, "tracks_erasure", "web_events", "user_id", ["u1", "o'hara"])
        assert deleted == 3
        cursor = conn.cursor()
        cursor.execute("SELECT DISTINCT user_id FROM web_events.tracks_erasure ORDER BY 1")
        assert cursor.fetchall() == [("u0",), ("u2",)]
        assert ENGINE.delete(conn, "tracks_erasure", "web_events", "user_id", []) == 0
