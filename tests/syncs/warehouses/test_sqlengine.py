"""The engine shared by the DB-API warehouses, proved on its real engine, DuckDB: the
read-only guard in the warehouse's dialect, the preview, the key check, the key-ordered
stream with the fingerprint the warehouse computes, and the loading skeleton."""

from __future__ import annotations

import pytest

from apps.syncs.warehouses import engine_for
from apps.syncs.warehouses.base import Column, Table
from apps.syncs.warehouses.sqlengine import PREVIEW_CELL_BYTES
from martech.common.errors import ApplicationError

from .duckdb_files import make_database

ENGINE = engine_for("duckdb")
PEOPLE = (
    "CREATE TABLE people (id VARCHAR, email VARCHAR, plan VARCHAR, ltv DOUBLE, note VARCHAR)",
    "INSERT INTO people VALUES "
    "('b', 'b@example.com', 'pro', 10.5, 'x'), ('a', 'a@example.com', NULL, 3, 'y'), "
    "('é', 'e@example.com', 'free', 0, 'z'), ('Z', 'z@example.com', 'pro', 1, 'w'), "
    "('ab', 'ab@example.com', '', 2, 'v'), ('~', 't@example.com', 'pro', 4, 'u'), "
    "('日本', 'j@example.com', 'pro', 5, 't')",
)


@pytest.fixture
def var(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.MARTECH_DUCKDB_DIRECTORIES = []
    return tmp_path / "warehouses"


@pytest.fixture
def people(var):
    return make_database(var, "people.duckdb", *PEOPLE)


def _refusal(sql: str) -> str:
    with pytest.raises(ApplicationError) as caught:
        ENGINE.check_sql(sql)
    assert caught.value.code == "invalid_sql"
    assert caught.value.status == 400
    return caught.value.message


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv_auto('/etc/passwd')",
        "SELECT * FROM read_parquet('s3://bucket/x.parquet')",
        "SELECT * FROM read_json('https://example.com/x.json')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM query('SELECT 1')",
        "SELECT * FROM query_table('people')",
        "SELECT * FROM sqlite_scan('/tmp/x.db', 't')",
        "SELECT * FROM postgres_scan('host=x', 'public', 't')",
        "SELECT * FROM '/etc/passwd'",
        'SELECT * FROM "data.csv"',
        "SELECT '/etc/passwd'.read_text()",
        "SELECT getenv('HOME')",
        "SELECT current_setting('enable_external_access')",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM duckdb_tables",
        "SELECT * FROM pragma_database_list",
        'SELECT * FROM main."pragma_database_list"',
        "SELECT * FROM system.main.pragma_database_list",
        "SELECT * FROM information_schema.tables",
        "SELECT 1 INTO copy_of FROM people",
        "SELECT * FROM people FOR UPDATE",
        "SELECT * FROM people WHERE id = ?",
        "SELECT * FROM people WHERE id = $1",
        "WITH gone AS (DELETE FROM people RETURNING *) SELECT * FROM gone",
        "main.people.id",
        "SELECT main.lower(id) FROM people",
    ],
)
def test_guard_refuses_what_reads_files_urls_settings_or_writes(sql):
    _refusal(sql)


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("ATTACH '/tmp/other.db' AS other", "ATTACH"),
        ("COPY people TO '/tmp/out.csv'", "COPY"),
        ("EXPORT DATABASE '/tmp/out'", "EXPORT"),
        ("INSTALL httpfs", "INSTALL"),
        ("LOAD httpfs", "LOAD"),
        ("PRAGMA enable_profiling", "PRAGMA"),
        ("SET enable_external_access = true", "SET"),
        ("CALL pragma_version()", "CALL"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("DROP TABLE people", "DROP"),
        ("DESCRIBE people", "DESCRIBE"),
        ("SELECT * FROM (SHOW TABLES)", "SHOW"),
        ("SELECT * FROM (DESCRIBE people)", "DESCRIBE"),
        ("SELECT * FROM (SUMMARIZE people)", "SUMMARIZE"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("SELECT 1; ATTACH 'x.db'", "2 statements"),
    ],
)
def test_guard_refuses_statements_that_are_not_one_read_query(sql, says):
    assert says in _refusal(sql)


def test_guard_refuses_deep_nesting_and_huge_text_before_parsing():
    assert "nested too deeply" in _refusal("SELECT " + "(" * 200 + "1" + ")" * 200)
    assert "nested too deeply" in _refusal("SELECT " + "NOT " * 500 + "true")
    assert "too long" in _refusal("SELECT 1 AS x" + ", 1" * 40_000)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id, lower(email) AS email, date_diff('day', now(), now()) AS days FROM people",
        "FROM people SELECT id, coalesce(plan, 'none') AS plan",
        "WITH p(i, e) AS (SELECT id, email FROM people) SELECT * FROM p",
        "SELECT * EXCLUDE (note) FROM people QUALIFY row_number() OVER (ORDER BY id) < 5",
        "SELECT plan, count(*) FILTER (WHERE ltv > 1), CAST(sum(ltv) AS DECIMAL(10, 2)) "
        "FROM people GROUP BY plan;",
        "SELECT id, left(email, 3), replace(email, '@', ' at ') FROM people -- trailing",
        "SELECT (list(id)) AS ids, (count(*)) AS n FROM people",
        'SELECT "show"."id" FROM people AS "show"',
    ],
)
def test_guard_accepts_a_marketers_read_query(sql):
    assert ENGINE.check_sql(sql).startswith(("SELECT", "FROM", "WITH"))


def test_guard_drops_trailing_semicolons_and_comments():
    assert ENGINE.check_sql("SELECT 1 AS x; -- done\n") == "SELECT 1 AS x"


@pytest.mark.parametrize("kind", ["duckdb", "snowflake", "bigquery", "databricks"])
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT key FROM martech_events.hash_key",
        "SELECT key FROM hash_key",
        'SELECT "key" FROM "martech_events"."HASH_KEY"',
        "SELECT * FROM people p JOIN Hash_Key k ON true",
        "SELECT * FROM people WHERE id IN (SELECT key FROM analytics.martech_events.hash_key)",
    ],
)
def test_guard_refuses_a_model_reading_the_hash_key_table(kind, sql):
    with pytest.raises(ApplicationError) as caught:
        engine_for(kind).check_sql(sql)
    assert caught.value.code == "invalid_sql"
    assert caught.value.status == 400
    assert "read in the warehouse, not through the console" in caught.value.message


def test_a_model_reading_the_hash_key_table_is_refused_before_the_preview_runs(var):
    credentials = make_database(
        var,
        "keyed.duckdb",
        "CREATE TABLE hash_key (key VARCHAR)",
        "INSERT INTO hash_key VALUES ('k')",
    )
    with pytest.raises(ApplicationError) as caught:
        ENGINE.preview(credentials, "SELECT key FROM hash_key", timeout=10)
    assert caught.value.code == "invalid_sql"


def test_preview_shows_first_rows_and_column_types(people):
    shown = ENGINE.preview(
        people, "SELECT id, ltv, plan FROM people ORDER BY id", timeout=10, limit=2
    )
    assert shown.columns == [
        {"name": "id", "type": "VARCHAR"},
        {"name": "ltv", "type": "DOUBLE"},
        {"name": "plan", "type": "VARCHAR"},
    ]
    assert shown.rows == [("Z", 1.0, "pro"), ("a", 3.0, None)]


def test_preview_replaces_a_cell_too_large_to_show(people):
    size = PREVIEW_CELL_BYTES + 1
    sql = f"SELECT id, repeat('x', {size}) AS big FROM people WHERE id = 'a'"  # noqa: S608
    shown = ENGINE.preview(people, sql, timeout=10)
    assert shown.rows == [("a", f"(a value of {size:,} bytes: too large to preview)")]


def test_a_failing_query_is_a_400_saying_why(people):
    with pytest.raises(ApplicationError) as caught:
        ENGINE.preview(people, "SELECT nope FROM people", timeout=10)
    assert caught.value.code == "query_failed"
    assert "nope" in caught.value.message


def test_check_key_counts_rows_empty_keys_and_duplicates(people):
    checked = ENGINE.check_key(people, "SELECT plan FROM people", "plan", timeout=10)
    assert (checked.rows, checked.nulls) == (7, 2)  # NULL and ''
    assert checked.duplicates == [("pro", 4)]
    assert not checked.ok
    assert ENGINE.check_key(people, "SELECT id FROM people", "id", timeout=10).ok


def _streamed(credentials, sql, key="id", hashed=("email", "plan"), batch=5000):
    found = []
    for extra, rows in ENGINE.stream_keyed(
        credentials, sql, key, list(hashed), timeout=10, batch=batch
    ):
        assert extra == 2
        assert len(rows) <= batch
        found.extend(rows)
    return found


def test_stream_is_in_byte_order_of_the_key_with_non_ascii_keys(people):
    rows = _streamed(people, "SELECT * FROM people", batch=2)
    keys = [row[0] for row in rows]
    assert keys == sorted(keys, key=lambda k: k.encode())
    assert keys == ["Z", "a", "ab", "b", "~", "é", "日本"]
    assert all(isinstance(row[1], bytes) and len(row[1]) == 16 for row in rows)
    assert rows[0][2:] == ("Z", "z@example.com", "pro", 1.0, "w")


def test_stream_keys_integers_as_text(var):
    numbers = make_database(var, "n.duckdb", "CREATE TABLE n AS SELECT range AS id FROM range(12)")
    keys = [row[0] for row in _streamed(numbers, "SELECT id FROM n", hashed=("id",))]
    assert keys == sorted(str(i) for i in range(12))


def _prints(credentials, sql):
    return {row[0]: row[1] for row in _streamed(credentials, sql)}


def test_fingerprint_changes_with_a_hashed_value_and_not_otherwise(people):
    before = _prints(people, "SELECT * FROM people")
    note_changed = _prints(people, "SELECT * REPLACE ('other' AS note) FROM people")
    plan_changed = _prints(
        people,
        "SELECT * REPLACE (CASE WHEN id = 'b' THEN 'free' ELSE plan END AS plan) FROM people",
    )
    assert note_changed == before
    assert [k for k in before if plan_changed[k] != before[k]] == ["b"]


def test_fingerprint_tells_null_from_empty_and_does_not_run_values_together(var):
    rows = make_database(
        var,
        "p.duckdb",
        "CREATE TABLE p (id VARCHAR, email VARCHAR, plan VARCHAR)",
        "INSERT INTO p VALUES ('1', 'a', 'bc'), ('2', 'ab', 'c'), ('3', NULL, 'x'), "
        "('4', '', 'x'), ('5', 'NULL', 'x')",
    )
    prints = _prints(rows, "SELECT * FROM p")
    assert len(set(prints.values())) == 5


@pytest.fixture
def events(var):
    return make_database(var, "events.duckdb")


TRACKS = Table(
    schema="analytics",
    name="tracks",
    columns=(
        Column("message_id", "string"),
        Column("event", "string"),
        Column("n", "integer"),
    ),
    key="message_id",
)


def _all(credentials, sql):
    with ENGINE.reading(credentials, timeout=10) as conn:
        cursor = conn.cursor()
        cursor.execute(sql)
        return cursor.fetchall()


def test_ensure_creates_then_adds_columns_and_never_drops_one(events):
    wider = Table(
        TRACKS.schema, TRACKS.name, (*TRACKS.columns, Column("price", "float")), TRACKS.key
    )
    narrower = Table(TRACKS.schema, TRACKS.name, TRACKS.columns[:1], TRACKS.key)
    with ENGINE.writing(events) as conn:
        assert ENGINE.ensure(conn, TRACKS) == []
        assert ENGINE.ensure(conn, wider) == [Column("price", "float")]
        assert ENGINE.ensure(conn, narrower) == []
        assert ENGINE.ensure(conn, wider) == []
    columns = _all(
        events,
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'tracks' "
        "ORDER BY column_index",
    )
    assert columns == [
        ("message_id", "VARCHAR"),
        ("event", "VARCHAR"),
        ("n", "BIGINT"),
        ("price", "DOUBLE"),
    ]


def test_load_twice_writes_once_and_a_key_twice_in_a_batch_once(events):
    batch = [("m1", "Signed Up", 1), ("m2", "Order Completed", 2), ("m1", "Signed Up", 1)]
    with ENGINE.writing(events) as conn:
        ENGINE.ensure(conn, TRACKS)
        assert ENGINE.load(conn, TRACKS, batch) == 2
    with ENGINE.writing(events) as conn:
        assert ENGINE.load(conn, TRACKS, [*batch, ("m3", "Page", None)]) == 1
    assert _all(events, "SELECT * FROM analytics.tracks ORDER BY 1") == [
        ("m1", "Signed Up", 1),
        ("m2", "Order Completed", 2),
        ("m3", "Page", None),
    ]


def test_delete_removes_the_rows_named_and_returns_the_count(events, monkeypatch):
    monkeypatch.setattr("apps.syncs.warehouses.sqlengine.DELETE_CHUNK", 2)
    rows = [(f"m{i}", "it's", i) for i in range(5)] + [("o'brien", "x", 9)]
    with ENGINE.writing(events) as conn:
        ENGINE.ensure(conn, TRACKS)
        ENGINE.load(conn, TRACKS, rows)
        deleted = ENGINE.delete(
            conn, "tracks", "analytics", "message_id", ["m0", "m2", "m4", "o'brien", "nobody"]
        )
    assert deleted == 4
    assert _all(events, "SELECT message_id FROM analytics.tracks ORDER BY 1") == [("m1",), ("m3",)]
