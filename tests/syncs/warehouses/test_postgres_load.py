"""Loading into PostgreSQL (and Redshift over the same wire protocol), against a database of
its own on the local server owned by a loading role: tables and columns are created as the
layout asks and read back with their types, a batch is written by binary COPY once per key
whatever is loaded again, a failed batch leaves nothing, and the writing connection is
checked as a reading one is (egress policy, no superuser)."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from django.db import connection

from apps.syncs.warehouses import engine_for
from apps.syncs.warehouses.base import Column, Table
from martech.common.errors import ApplicationError

from .pg_databases import company_database, read

pytestmark = pytest.mark.django_db(transaction=True)

WHEN = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
COLUMNS = (
    Column("id", "string"),
    Column("revenue", "integer"),
    Column("price", "float"),
    Column("paid", "boolean"),
    Column("timestamp", "timestamp"),
    Column("items", "json"),
)


def _table(*columns: Column, name: str = "order_completed") -> Table:
    return Table(schema="martech_events", name=name, columns=columns or COLUMNS, key="id")


def _row(n: int) -> tuple:
    return (f"m{n}", n, n + 0.5, n % 2 == 0, WHEN, f'[{{"sku": "s{n}"}}]')


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("loads go into a database on the PostgreSQL test server")


@pytest.fixture
def company():
    with company_database() as database:
        yield database


def _load(kind: str, company: dict, table: Table, rows) -> int:
    engine = engine_for(kind)
    with engine.writing({"dsn": company["dsn"]}) as conn:
        engine.ensure(conn, table)
        return engine.load(conn, table, rows)


def test_a_batch_lands_by_copy_with_typed_columns_that_read_back_as_the_layouts_types(company):
    engine = engine_for("postgres")

    assert _load("postgres", company, _table(), [_row(1), _row(2)]) == 2

    assert read(company, "SELECT * FROM martech_events.order_completed ORDER BY id") == [
        ("m1", 1, 1.5, False, WHEN, [{"sku": "s1"}]),
        ("m2", 2, 2.5, True, WHEN, [{"sku": "s2"}]),
    ]
    with engine.writing({"dsn": company["dsn"]}) as conn:
        assert engine.tables(conn, "martech_events") == {
            "order_completed": {c.name: c.type for c in COLUMNS}
        }
        assert engine.tables(conn, "no_such_schema") == {}


def test_a_key_loaded_before_or_twice_in_a_batch_is_written_once(company):
    _load("postgres", company, _table(), [_row(1), _row(2)])

    # two loaded before, one twice in the batch, two new
    again = [_row(2), _row(3), _row(3), _row(1), _row(4)]
    assert _load("postgres", company, _table(), again) == 2

    assert read(company, "SELECT id FROM martech_events.order_completed ORDER BY id") == [
        ("m1",),
        ("m2",),
        ("m3",),
        ("m4",),
    ]


def test_a_new_column_is_added_never_dropped_and_old_rows_keep_their_values(company):
    engine = engine_for("postgres")
    _load("postgres", company, _table(Column("id", "string"), Column("plan", "string")), [])
    with engine.writing({"dsn": company["dsn"]}) as conn:
        engine.load(
            conn,
            _table(Column("id", "string"), Column("plan", "string")),
            [("u1", "pro")],
        )
        wider = _table(Column("id", "string"), Column("seats", "integer"))
        added = engine.ensure(conn, wider)
        engine.load(conn, wider, [("u2", 5)])

    assert added == [Column("seats", "integer")]
    assert read(
        company, "SELECT id, plan, seats FROM martech_events.order_completed ORDER BY 1"
    ) == [
        ("u1", "pro", None),
        ("u2", None, 5),
    ]


def test_a_failed_batch_leaves_nothing_in_the_warehouse(company):
    engine = engine_for("postgres")
    _load("postgres", company, _table(), [_row(1)])

    def stopped_midway():
        with engine.writing({"dsn": company["dsn"]}) as conn:
            engine.ensure(conn, _table(*COLUMNS, Column("coupon", "string")))
            engine.load(conn, _table(), [_row(2)])
            raise RuntimeError("the worker stops here")

    with pytest.raises(RuntimeError):
        stopped_midway()

    assert read(company, "SELECT id FROM martech_events.order_completed") == [("m1",)]
    assert "coupon" not in engine_tables(company)["order_completed"]


def engine_tables(company: dict) -> dict:
    engine = engine_for("postgres")
    with engine.writing({"dsn": company["dsn"]}) as conn:
        return engine.tables(conn, "martech_events")


def test_rows_are_deleted_by_the_values_of_a_column(company):
    engine = engine_for("postgres")
    _load("postgres", company, _table(), [_row(n) for n in range(1, 6)])

    with engine.writing({"dsn": company["dsn"]}) as conn:
        deleted = engine.delete(conn, "order_completed", "martech_events", "id", ["m2", "m4", "x"])

    assert deleted == 2
    assert [r[0] for r in read(company, "SELECT id FROM martech_events.order_completed")] == [
        "m1",
        "m3",
        "m5",
    ]


def test_a_writing_connection_as_a_superuser_is_refused_before_anything_is_written(company):
    engine = engine_for("postgres")
    as_admin = {"dsn": company["admin"]}

    with pytest.raises(ApplicationError) as refused, engine.writing(as_admin) as conn:
        engine.ensure(conn, _table())

    assert refused.value.code == "warehouse_role_too_powerful"
    assert read(company, "SELECT count(*) FROM pg_namespace WHERE nspname = 'martech_events'") == [
        (0,)
    ]


def test_a_writing_connection_goes_only_where_the_egress_policy_allows(company, settings):
    settings.MARTECH_EGRESS_ALLOW = []

    with (
        pytest.raises(ApplicationError) as refused,
        engine_for("postgres").writing({"dsn": company["dsn"]}),
    ):
        pass

    assert refused.value.code == "egress_refused"


def test_the_consoles_own_database_takes_no_loads():
    with pytest.raises(NotImplementedError):
        engine_for("console").writing({})


def test_redshift_stages_by_insert_and_loads_each_key_once_in_its_own_types(company):
    engine = engine_for("redshift")
    first = [_row(1), _row(2)]
    assert _load("redshift", company, _table(), first) == 2

    assert _load("redshift", company, _table(), [_row(2), _row(3), _row(3)]) == 1

    assert read(
        company,
        "SELECT id, revenue, items FROM martech_events.order_completed ORDER BY id",
    ) == [("m1", 1, '[{"sku": "s1"}]'), ("m2", 2, '[{"sku": "s2"}]'), ("m3", 3, '[{"sku": "s3"}]')]
    types = dict(
        read(
            company,
            "SELECT column_name, data_type || coalesce('(' || character_maximum_length || ')', '') "
            "FROM information_schema.columns WHERE table_name = 'order_completed'",
        )
    )
    assert types["id"] == types["items"] == "character varying(65535)"
    assert engine.column_type("timestamp") == "TIMESTAMPTZ"
    with psycopg.connect(company["admin"]) as conn:
        temporary = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname = '__martech_staging'"
        ).fetchone()
    assert temporary == (0,)
