"""The Redshift engine, against the local PostgreSQL as its wire protocol: the SQL it sends
avoids what Redshift lacks (row constructors, COLLATE "C", ``text`` as unbounded,
``pg_has_role``), sets its timeout in milliseconds, reads in a ``BEGIN READ ONLY``
transaction, and a sync reads a model from it like from PostgreSQL."""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from apps.syncs import services
from apps.syncs.engine import warehouse as engine
from apps.syncs.warehouses import engine_for
from martech.common.errors import ApplicationError

from ..conftest import admin_dsn, destination_for, dsn, grant_reader, run_now, sent_rows, sync_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only("the wire protocol is the PostgreSQL test database's"),
]


@pytest.fixture
def accounts():
    """``wh_accounts``, committed by the console's role and readable by the reader."""
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS wh_accounts")
        conn.execute("CREATE TABLE wh_accounts (id text, email text, name text, active boolean)")
        conn.execute(
            "INSERT INTO wh_accounts VALUES ('b', 'b@acme.example', 'Bo', true), "
            "('a', 'a@acme.example', NULL, false), ('B', 'big@acme.example', '', NULL)"
        )
        grant_reader(conn, "wh_accounts")
    yield "wh_accounts"
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS wh_accounts")


@pytest.fixture
def redshift(admin):
    return services.warehouse_create(
        actor=admin, name="Redshift", kind="redshift", credentials={"dsn": dsn()}
    )


def test_the_redshift_engine_is_registered_after_console_and_postgres():
    from apps.syncs.warehouses import MODULES

    assert list(MODULES)[:3] == ["console", "postgres", "redshift"]
    assert engine_for("redshift").label == "Amazon Redshift"


def test_a_redshift_dsn_without_a_port_means_redshifts_port_5439(admin):
    warehouse = services.warehouse_create(
        actor=admin,
        name="R",
        kind="redshift",
        credentials={"dsn": "postgresql://reader:pw@127.0.0.1/dev"},
    )
    assert warehouse.display == "127.0.0.1:5439/dev as reader"
    assert engine_for("redshift").endpoints(engine.credentials_of(warehouse)) == [
        ("127.0.0.1", 5439)
    ]


def test_a_redshift_model_previews_and_checks_its_key_over_the_wire(redshift, accounts):
    shown = engine.preview(redshift, f"SELECT id, name, active FROM {accounts} ORDER BY id")  # noqa: S608
    assert [c["name"] for c in shown.columns] == ["id", "name", "active"]
    assert shown.rows == [("B", "", None), ("a", None, False), ("b", "Bo", True)]
    check = engine.check_key(redshift, f"SELECT id FROM {accounts}", "id")  # noqa: S608
    assert (check.rows, check.nulls, check.duplicates) == (3, 0, [])


def _expected(*values) -> bytes:
    """The fingerprint as the module describes it: each value as its length and text
    (``n`` for null), joined by ``|``, hashed with MD5."""
    parts = ["n" if v is None else f"{len(v.encode())}:{v}" for v in values]
    return hashlib.md5("|".join(parts).encode()).digest()  # noqa: S324 - a fingerprint


def test_redshift_streams_rows_in_byte_order_with_an_md5_of_the_concatenated_values(
    redshift, accounts
):
    batches = list(
        engine.stream_keyed(
            redshift,
            f"SELECT id, name, active FROM {accounts}",  # noqa: S608
            "id",
            ["name", "active"],
        )
    )
    assert [extra for extra, _ in batches] == [3]
    rows = batches[0][1]
    # the key as text, byte by byte: upper case first
    assert [row[0] for row in rows] == ["B", "a", "b"]
    prints = {row[0]: row[1] for row in rows}
    # a null and an empty name differ; booleans are written as words
    assert prints["B"] == _expected("", None)
    assert prints["a"] == _expected(None, "false")
    assert prints["b"] == _expected("Bo", "true")
    assert all(isinstance(p, bytes) and len(p) == 16 for p in prints.values())


def test_a_redshift_reading_is_read_only_and_its_timeout_is_set_in_milliseconds(admin, accounts):
    warehouse = services.warehouse_create(
        actor=admin, name="R", kind="redshift", credentials={"dsn": dsn()}, statement_timeout=1
    )
    with engine.reading(warehouse) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "1s"
        assert conn.execute("SHOW transaction_read_only").fetchone()[0] == "on"
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(3)")
    with engine.reading(warehouse) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("CREATE TABLE wh_nope (id int)")


def test_a_redshift_superuser_is_refused_by_pg_user(admin):
    warehouse = services.warehouse_create(
        actor=admin, name="Admin", kind="redshift", credentials={"dsn": admin_dsn()}
    )
    with pytest.raises(ApplicationError) as caught:
        engine.preview(warehouse, "SELECT 1 AS id")
    assert caught.value.code == "warehouse_role_too_powerful"
    assert "superuser" in caught.value.message


def test_the_connection_test_names_the_server(admin, redshift):
    ok, message = services.warehouse_test(actor=admin, warehouse=redshift)
    assert ok, message
    assert message.startswith("PostgreSQL")  # the wire protocol's server, here


class _Answers:
    """A connection that answers ``version()`` as Redshift does."""

    def execute(self, sql):
        text = (
            "PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 "
            "20041017 (Red Hat 3.4.2-6.fc3), Redshift 1.0.77467"
        )
        return type("Cursor", (), {"fetchone": lambda self: (text,)})()


def test_redshifts_version_line_names_redshift_not_postgresql_8():
    assert engine_for("redshift").version(_Answers()) == "Amazon Redshift 1.0.77467"


def test_a_sync_reads_its_model_from_redshift_and_sends_only_changes(
    admin, redshift, accounts, tool, webhook_vendor
):
    # given a model on the Redshift warehouse and a sync to a webhook
    model = services.model_create(
        actor=admin,
        name="Accounts",
        warehouse=redshift,
        primary_key="id",
        sql=f"SELECT id, email, name, active FROM {accounts}",  # noqa: S608
    )
    destination = destination_for(admin, tool, webhook_vendor)
    sync = sync_for(
        admin,
        model,
        destination,
        mappings=[{"from": "name", "to": "full_name"}, {"from": "active", "to": "active"}],
    )
    # when it runs twice, with one row changed in between
    first = run_now(admin, sync)
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f"UPDATE {accounts} SET active = false WHERE id = 'b'")  # noqa: S608
    second = run_now(admin, sync)
    # then the first sends every row, the second only the changed one
    assert first.status == "succeeded", first.error
    assert second.status == "succeeded", second.error
    sent = sent_rows(webhook_vendor)
    assert len(sent) == 4
    assert sent[-1]["fields"] == {"full_name": "Bo", "active": False}
