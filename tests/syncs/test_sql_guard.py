"""A model's SQL: only an allow-list of functions, read as PostgreSQL reads it, within size
and nesting limits, refused with ``invalid_sql`` before any warehouse sees it."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.urls import reverse
from sqlglot import exp

from apps.syncs import services
from apps.syncs.engine import warehouse as engine
from apps.syncs.engine.sql import MAX_DEPTH, check_sql, parse_checked
from apps.syncs.models import SqlModel
from martech.common.errors import ApplicationError

from .conftest import admin_dsn, grant_reader

GUARD_TABLE = "wh_guard_people"


def refused(sql: str) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        check_sql(sql)
    assert caught.value.code == "invalid_sql"
    return caught.value


# Every way the review reached a server function, and variants of each: escaped, quoted,
# upper case, qualified, commented, spread over lines, wrapped, in FROM, in a CTE.
FUNCTION_PAYLOADS = [
    (
        "SELECT 1 AS id, query_to_xml('select pg_read_file(''/etc/hostname'') as f', true, "
        "false, '')::text AS x",
        "query_to_xml",
    ),
    ("SELECT query_to_json('select 1', true)", "query_to_json"),
    (
        "SELECT query_to_xml_and_xmlschema('select 1', true, false, '')",
        "query_to_xml_and_xmlschema",
    ),
    ("SELECT cursor_to_xml('c', 1, false, false, '')", "cursor_to_xml"),
    ("SELECT table_to_xml('auth_user', true, false, '')", "table_to_xml"),
    ("SELECT database_to_xml(true, false, '')", "database_to_xml"),
    ("SELECT schema_to_xml('public', true, false, '')", "schema_to_xml"),
    ("SELECT xpath('/a', '<a/>'::xml)", "xpath"),
    ("SELECT pg_read_file('PG_VERSION')", "pg_read_file"),
    ("SELECT \"pg_read_file\"('PG_VERSION')", "pg_read_file"),
    ("SELECT PG_READ_FILE('PG_VERSION')", "pg_read_file"),
    ("SELECT Pg_Read_File('PG_VERSION')", "pg_read_file"),
    ("SELECT pg_read_file /* a comment */ ('PG_VERSION')", "pg_read_file"),
    ("SELECT pg_read_file\n\t(\n'PG_VERSION')", "pg_read_file"),
    ("SELECT pg_read_file -- a comment\n('PG_VERSION')", "pg_read_file"),
    ("SELECT pg_read_binary_file('PG_VERSION')", "pg_read_binary_file"),
    ("SELECT 1 AS id WHERE length(pg_read_file('PG_VERSION')) > 0", "pg_read_file"),
    ("SELECT * FROM pg_ls_dir('.') AS d(f)", "pg_ls_dir"),
    ("SELECT * FROM pg_ls_dir('.')", "pg_ls_dir"),
    ("SELECT * FROM ROWS FROM (pg_ls_dir('.')) AS d(f)", "pg_ls_dir"),
    ("SELECT d.f FROM (SELECT 1) AS x, LATERAL pg_ls_dir('.') AS d(f)", "pg_ls_dir"),
    ("SELECT lower(pg_stat_file('PG_VERSION')::text)", "pg_stat_file"),
    ("SELECT coalesce(set_config('log_statement', 'all', false), 'x')", "set_config"),
    ("SELECT current_setting('data_directory')", "current_setting"),
    ("SELECT pg_sleep(10)", "pg_sleep"),
    ("SELECT pg_sleep_for('10 seconds')", "pg_sleep_for"),
    ("SELECT 1 AS id FROM (SELECT pg_sleep(10)) AS s", "pg_sleep"),
    ("SELECT pg_terminate_backend(pg_backend_pid())", "pg_terminate_backend"),
    ("SELECT pg_cancel_backend(1)", "pg_cancel_backend"),
    ("SELECT pg_reload_conf()", "pg_reload_conf"),
    ("SELECT pg_try_advisory_lock(1)", "pg_try_advisory_lock"),
    ("SELECT pg_advisory_lock_shared(1)", "pg_advisory_lock_shared"),
    ("SELECT pg_advisory_xact_lock(1)", "pg_advisory_xact_lock"),
    ("SELECT pg_notify('channel', 'x')", "pg_notify"),
    ("SELECT lo_from_bytea(0, 'x')", "lo_from_bytea"),
    ("SELECT lo_import('/etc/passwd')", "lo_import"),
    ("SELECT lo_export(1, '/tmp/x')", "lo_export"),
    ("SELECT txid_current()", "txid_current"),
    ("SELECT pg_current_xact_id()", "pg_current_xact_id"),
    ("SELECT nextval('some_seq')", "nextval"),
    ("SELECT dblink('host=x', 'select 1')", "dblink"),
    ("SELECT dblink_exec('host=x', 'drop table t')", "dblink_exec"),
    ("SELECT version()", "version"),
    ("SELECT has_table_privilege('auth_user', 'select')", "has_table_privilege"),
    ('SELECT "LOWER"(email) FROM t', "LOWER"),
    (
        "WITH pg_read_file(a) AS (SELECT 1) SELECT pg_read_file('x') FROM pg_read_file",
        "pg_read_file",
    ),
    ("SELECT * FROM t AS x(pg_read_file) WHERE pg_read_file('x') IS NOT NULL", "pg_read_file"),
    ("SELECT system('id')", "system"),
    # a non-ASCII digit is a letter to PostgreSQL: this is a call of a function named so
    ("SELECT \u0661('x')", "\u0661()"),
    ("SELECT pg_catalog.pg_read_file('PG_VERSION')", "schema-qualified"),
    ('SELECT "pg_catalog"."pg_read_file"(\'PG_VERSION\')', "schema-qualified"),
    ("SELECT pg_catalog.lower('X')", "schema-qualified"),
    ("SELECT public.lower('X')", "schema-qualified"),
    ("SELECT t.pg_read_file('x') FROM t", "schema-qualified"),
    # attribute notation: t.f is f(t) when t is a whole row
    ("SELECT e.pg_typeof FROM activation.events e", "pg_typeof"),
    ("SELECT (e).pg_column_size AS n FROM activation.events e", "pg_column_size"),
    ('SELECT e."pg_collation_for" FROM activation.events e', "pg_collation_for"),
    ("SELECT e.PG_COLUMN_COMPRESSION FROM activation.events e", "pg_column_compression"),
    ("SELECT e.record_send FROM activation.events e", "record_send"),
    ("SELECT e.quote_literal FROM activation.events e", "quote_literal"),
    # types whose input is a catalog lookup by name
    ("SELECT 'pg_read_file'::regproc", "regproc"),
    ("SELECT CAST('django_session' AS regclass)", "regclass"),
    ("SELECT 'pg_read_server_files'::REGROLE::oid", "regrole"),
    ("SELECT 'public'::\"regnamespace\"", "regnamespace"),
    ("SELECT 'x'::pg_catalog.regtype", "regtype"),
    ("SELECT regprocedure 'lower(text)'", "regprocedure"),
    ("SELECT x.* FROM json_to_record('{}') AS x(a regclass)", "regclass"),
]


@pytest.mark.parametrize(("sql", "named"), FUNCTION_PAYLOADS)
def test_a_function_not_on_the_allow_list_is_refused_naming_it(sql, named):
    # when / then
    assert named in refused(sql).message


# Constructs whose meaning a checker could get wrong: refused with a reason, not guessed.
SYNTAX_PAYLOADS = [
    ("SELECT 1 AS id, U&\"\\0070g_read_file\"('PG_VERSION') AS f", "U&"),
    ("SELECT U&\"\\+000070g_read_file\"('PG_VERSION')", "U&"),
    ("SELECT u&\"\\0070g_read_file\"('PG_VERSION')", "U&"),
    ("SELECT U&\"d!0061ta\" UESCAPE '!' FROM t", "U&"),
    ("SELECT U&'\\0070' AS id", "U&"),
    ("SELECT x UESCAPE '!' FROM t", "UESCAPE"),
    ("SELECT 1 OPERATOR(pg_catalog.+) 1", "OPERATOR"),
    ("SELECT $$pg_read_file$$", "$"),
    ("SELECT $a$ , pg_read_file('x') , $a$", "$"),
    ("SELECT $1", "$"),
    ("SELECT pg_read_file$x('a')", "$"),
    ("SELECT 1 /* /* */ , pg_read_file('x') */", "Nested comments"),
    ("SELECT 1 /* not closed", "not closed"),
    ("SELECT E'\\'' , lower('x') --'", "backslash"),
    ("SELECT 'a\\', lower('x'), '\\'", "backslash"),
    ("SELECT 'not closed", "not closed"),
    ('SELECT "not closed', "not closed"),
    ('SELECT "" FROM t', "not a name"),
    ("SELECT 0x1F", "number runs into a name"),
    ("SELECT 1abc", "number runs into a name"),
    ("SELECT \\x", "Unexpected character"),
    ("SELECT 1 AS id\x00", "Unexpected character"),
    ("SELECT 1 AS\vid", "Unexpected character"),
    ("SELECT " + "x" * 64 + " FROM t", "63 bytes"),
    # PostgreSQL reads "SELECT<NBSP>pg_read_file" as one name; sqlglot as two words.
    ("SELECT\u00a0pg_read_file('x')", "read two ways"),
    ("SELECT lower(x)\u00a0AS y FROM t", "read two ways"),
]


@pytest.mark.parametrize(("sql", "reason"), SYNTAX_PAYLOADS)
def test_syntax_a_checker_could_misread_is_refused_with_a_reason(sql, reason):
    assert reason in refused(sql).message


STATEMENT_PAYLOADS = [
    ("COPY t TO '/tmp/x'", "COPY"),
    ("COPY (SELECT 1) TO PROGRAM 'id'", "COPY"),
    ("SELECT 1 AS id; SELECT 2", "2 statements"),
    ("SELECT 1 AS id; DROP TABLE t", "2 statements"),
    ("SELECT 1 AS id;\n-- a comment\nDELETE FROM t", "2 statements"),
    ("SELECT * INTO copy_of_t FROM t", "INTO creates a table"),
    ("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", "DELETE"),
    ("WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x", "UPDATE"),
    ("WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x", "INSERT"),
    ("SELECT * FROM t FOR UPDATE", "locks rows"),
    ("SELECT * FROM t FOR SHARE", "locks rows"),
    ("SELECT * FROM t FOR NO KEY UPDATE", ""),
    ("EXPLAIN ANALYZE SELECT 1", ""),
    ("DO 'begin perform 1; end'", ""),
    ("TRUNCATE t", ""),
    ("SET ROLE postgres", ""),
    ("SELECT 1 ) AS model, pg_read_file('x') FROM (SELECT 1", "no matching ("),
    ("SELECT (1", "not balanced"),
    ("SELECT * FROM pg_shadow", "system catalog"),
    ("SELECT * FROM pg_catalog.pg_authid", "system catalog"),
    ('SELECT * FROM "pg_catalog"."pg_authid"', "system catalog"),
    ("SELECT * FROM PG_CATALOG.PG_AUTHID", "system catalog"),
    ("SELECT * FROM pg_stat_activity", "system catalog"),
    ("SELECT * FROM information_schema.tables", "system catalog"),
    ("SELECT * FROM t WHERE a IN (SELECT usename FROM pg_user)", "system catalog"),
    ("SELECT * FROM sqlite_master", "system catalog"),
    ("SELECT key FROM martech_events.hash_key", "hash key is read in the warehouse"),
    ('SELECT "key" FROM "Hash_Key"', "hash key is read in the warehouse"),
    ("SELECT * FROM t WHERE a IN (SELECT key FROM HASH_KEY)", "hash key is read in the warehouse"),
    ("", "Write a SELECT"),
    ("  ;  -- only a comment", "Write a SELECT"),
]


@pytest.mark.parametrize(("sql", "reason"), STATEMENT_PAYLOADS)
def test_anything_but_one_read_query_of_the_warehouse_tables_is_refused(sql, reason):
    assert reason in refused(sql).message


def _nested(template: str, depth: int, inner: str = "x") -> str:
    opening, closing = template.split("{}")
    return "SELECT " + opening * depth + inner + closing * depth


TOO_DEEP = [
    _nested("({})", 3000, "1"),
    _nested("lower({})", MAX_DEPTH + 1),
    _nested("CASE WHEN a THEN {} END", MAX_DEPTH + 1, "1"),
    _nested("NOT ({})", MAX_DEPTH + 1, "true"),
    "SELECT x FROM t WHERE " + "NOT " * 200 + "true",
    "SELECT " + "- " * 5000 + "1",
    _nested("ARRAY[{}]", 7, "1"),
    _nested("ARRAY[{}]", 20, "1"),
    "SELECT * FROM " + "(SELECT * FROM " * 200 + "t" + ") AS x" * 200,
    " UNION ALL ".join(f"SELECT {i} AS id, 'name {i}' AS name" for i in range(3600))[:99_000],
    " UNION ALL ".join(f"SELECT {i} AS id" for i in range(3000)),
    "SELECT " + ", ".join(["1"] * 6000),
]


@pytest.mark.parametrize("sql", TOO_DEEP, ids=lambda sql: f"{sql[:30]}…{len(sql)}")
def test_too_big_or_too_deep_sql_is_refused_before_parsing_and_fast(sql):
    # when
    started = time.process_time()
    error = refused(sql)
    spent = time.process_time() - started
    # then: refused with the limit it passed, in well under a second
    assert any(word in error.message for word in ("too long", "too deeply", "nested more"))
    assert spent < 0.5


def _deep_stack(frames: int, call):
    return call() if frames == 0 else _deep_stack(frames - 1, call)


AT_THE_LIMIT = [
    _nested("({})", MAX_DEPTH, "1"),
    _nested("lower({})", MAX_DEPTH),
    _nested("NOT NOT NOT ({})", MAX_DEPTH, "true"),
    _nested("x = ANY({})", MAX_DEPTH, "ARRAY[1]").replace("SELECT ", "SELECT 1 WHERE ", 1),
    _nested("EXISTS (SELECT {})", MAX_DEPTH, "1"),
    _nested("CASE WHEN ({}) THEN 1 END", MAX_DEPTH // 2, "true"),
    "SELECT " + "NOT " * 32 + "(" * MAX_DEPTH + "NOT " * 32 + "true" + ")" * MAX_DEPTH,
    _nested("ARRAY[{}]", 6, "1"),
]


@pytest.mark.parametrize("sql", AT_THE_LIMIT, ids=lambda sql: f"{sql[:30]}…{len(sql)}")
def test_sql_at_the_nesting_limit_is_checked_even_from_a_deep_call_stack(sql):
    # given: the caller is already deep (a request through middleware, views and services)
    started = time.process_time()
    # when
    checked = _deep_stack(400, lambda: check_sql(sql))
    # then
    assert checked == sql
    assert time.process_time() - started < 0.5


LEGITIMATE = [
    "SELECT id, email, ltv FROM wh_guard_people",
    "WITH a AS (SELECT id FROM wh_guard_people) SELECT id FROM a UNION SELECT 'z'",
    "SELECT p.id, p.email, o.n FROM wh_guard_people p "
    "LEFT JOIN (SELECT id, count(*) AS n FROM wh_guard_people GROUP BY id) o ON o.id = p.id",
    "SELECT id, row_number() OVER (PARTITION BY email ORDER BY seen DESC) AS rn, "
    "lag(ltv) OVER w AS previous, sum(ltv) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND "
    "CURRENT ROW) AS running FROM wh_guard_people WINDOW w AS (ORDER BY id)",
    "SELECT id, props->>'plan' AS plan, props->'utm'->>'source' AS source, "
    "props #>> '{utm,medium}' AS medium, props ? 'plan' AS has_plan, "
    'props @> \'{"plan": "pro"}\'::jsonb AS pro FROM wh_guard_people',
    "SELECT id, date_trunc('day', seen)::date AS day, extract(epoch FROM seen) AS epoch, "
    "seen AT TIME ZONE 'UTC' AS utc, to_char(seen, 'YYYY-MM') AS month, "
    "age(now(), seen) AS age, seen > now() - interval '30 days' AS recent FROM wh_guard_people",
    "SELECT email AS id, count(*) FILTER (WHERE ltv > 100) AS big, "
    "string_agg(DISTINCT id, ', ' ORDER BY id) AS ids FROM wh_guard_people GROUP BY email "
    "HAVING (count(*) >= 1)",
    "SELECT id, CASE WHEN ltv >= 100 THEN 'high' WHEN ltv > 0 THEN 'low' ELSE 'none' END AS "
    "tier, coalesce(nullif(trim(lower(email)), ''), 'n/a') AS clean, greatest(ltv, 0) AS g, "
    "least(ltv, 1000) AS l FROM wh_guard_people",
    "SELECT id, CAST(ltv AS numeric(10,2)) AS ltv, ltv::integer AS whole, seen::date AS day, "
    "id::varchar(10) AS short, ltv::double precision AS f, seen::timestamp(0) AS ts "
    "FROM wh_guard_people",
    "SELECT id, regexp_replace(email, '\\s+|@.*$', '', 'g') AS local, split_part(email, '@', 2) "
    "AS domain, upper(left(email, 1)) || substr(email, 2) AS cap, md5(lower(email)) AS hashed, "
    "position('@' IN email) AS at, substring(email FROM 1 FOR 3) AS prefix, "
    "trim(BOTH ' ' FROM email) AS t FROM wh_guard_people WHERE email ILIKE '%@acme.example'",
    "SELECT id, jsonb_build_object('email', email, 'ltv', ltv) AS doc, tags[1] AS first_tag, "
    "array_length(tags, 1) AS n, 'vip' = ANY(tags) AS vip, array_to_string(tags, ',') AS t "
    "FROM wh_guard_people",
    "SELECT DISTINCT ON (email) email AS id, seen FROM wh_guard_people ORDER BY email, seen DESC",
    "SELECT id, ROW(id, ltv) = ROW('c1', 120.5) AS first FROM wh_guard_people",
    "SELECT g.n::text AS id FROM generate_series(1, 3) AS g(n)",
    "SELECT d::date::text AS id FROM generate_series(date '2026-01-01', date '2026-01-03', "
    "interval '1 day') AS d",
    "SELECT id, e.value AS tag FROM wh_guard_people, jsonb_array_elements_text(props->'tags') "
    "AS e(value)",
    "SELECT id FROM wh_guard_people WHERE id IN (SELECT id FROM wh_guard_people) AND EXISTS "
    "(SELECT 1) AND NOT (ltv < 0) AND email IS DISTINCT FROM 'x' AND ltv BETWEEN 0 AND 1e6",
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ltv) AS id FROM wh_guard_people",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) "
    "SELECT n AS id FROM r",
    'SELECT "id", "email" AS "E-mail", "lower"(email) AS l FROM "wh_guard_people"',
    "/* the model */ SELECT id, 'it''s' AS quote, E'a\\tb' AS tab, .5 * ltv AS half "
    "FROM wh_guard_people -- all of them",
    "(SELECT id FROM wh_guard_people) UNION ALL (SELECT 'z') ORDER BY 1 LIMIT 10 OFFSET 0",
    "SELECT id, ltv FROM wh_guard_people TABLESAMPLE BERNOULLI (100) REPEATABLE (1)",
    "SELECT id, count(*) AS n FROM wh_guard_people GROUP BY ROLLUP (id) ORDER BY 1 NULLS LAST",
    "SELECT id FROM wh_guard_people FETCH FIRST 5 ROWS ONLY;",
]


@pytest.fixture
def guard_table(db):
    """A warehouse table with the types a marketer's model reads: text, numbers, timestamps,
    JSONB and arrays, readable by the warehouse's read-only role."""
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {GUARD_TABLE}")
        conn.execute(
            f"CREATE TABLE {GUARD_TABLE} (id text, email text, ltv numeric, seen timestamptz, "
            "props jsonb, tags text[])"
        )
        conn.execute(
            f"INSERT INTO {GUARD_TABLE} VALUES ('c1', 'ana@acme.example', 120.5, now(), "  # noqa: S608
            """'{"plan": "pro", "utm": {"source": "ads", "medium": "cpc"}, "tags": ["a"]}', """
            "ARRAY['vip', 'eu']), ('c2', ' Bo@Acme.example ', 0, now() - interval '40 days', "
            """'{"plan": "free"}', ARRAY['us'])"""
        )
        grant_reader(conn, GUARD_TABLE)
    yield GUARD_TABLE
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {GUARD_TABLE}")


@pytest.mark.parametrize("sql", LEGITIMATE, ids=lambda sql: sql[:40])
def test_a_marketers_query_is_accepted_and_runs_on_postgresql(sql, warehouse, guard_table):
    # when
    text = check_sql(sql)
    shown = engine.preview(warehouse, text)
    # then: the text is the query as written, and PostgreSQL runs it as a model
    assert sql.startswith(text)
    assert shown.columns


@pytest.mark.parametrize(
    ("sql", "text"),
    [
        ("SELECT 1 AS id; -- done", "SELECT 1 AS id"),
        ("SELECT 1 AS id -- the last line", "SELECT 1 AS id"),
        ("SELECT 1 AS id /* a note */ ;;", "SELECT 1 AS id"),
        ("  SELECT 1 AS id ;\n", "SELECT 1 AS id"),
        ('SELECT 1 AS ";" ;', 'SELECT 1 AS ";"'),
    ],
)
def test_trailing_semicolons_and_comments_are_dropped_so_the_model_can_be_wrapped(
    sql, text, warehouse
):
    # when
    checked = check_sql(sql)
    # then: the text ends with the query, and the preview (which wraps it) runs
    assert checked == text
    assert engine.preview(warehouse, sql).rows == [(1,)]


def test_parse_checked_gives_the_text_and_the_tree_of_the_query():
    # when
    text, tree = parse_checked("SELECT id FROM activation.profiles AS p; -- x")
    # then
    assert text == "SELECT id FROM activation.profiles AS p"
    assert isinstance(tree, exp.Select)
    assert [(t.db, t.name) for t in tree.find_all(exp.Table)] == [("activation", "profiles")]


def _create(api, warehouse, sql):
    return api.post(
        reverse("api:model-list"),
        {"name": "Attempt", "warehouse": warehouse.pk, "sql": sql, "primary_key": "id"},
        format="json",
    )


API_PAYLOADS = [
    _nested("({})", 3000, "1"),
    " UNION ALL ".join(f"SELECT {i} AS id" for i in range(3600))[:99_000],
    "SELECT 1 AS id, U&\"\\0070g_read_file\"('PG_VERSION') AS f",
    "SELECT 1 AS id, query_to_xml('select pg_read_file(''PG_VERSION'') as f', true, false, "
    "'')::text AS x",
    "SELECT 1 AS id, pg_advisory_lock_shared(1) AS l",
]


@pytest.mark.parametrize("sql", API_PAYLOADS, ids=lambda sql: f"{sql[:30]}…{len(sql)}")
def test_the_api_refuses_such_a_model_with_a_400_invalid_sql_fast(admin, admin_api, sql):
    # given: the console's own database as the warehouse
    console = services.warehouse_create(actor=admin, name="Console", kind="console")
    # when
    started = time.process_time()
    answer = _create(admin_api, console, sql)
    spent = time.process_time() - started
    # then
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_sql"
    assert spent < 1.0
    assert not SqlModel.objects.filter(name="Attempt").exists()


def test_a_stored_model_whose_sql_is_now_refused_answers_400_on_preview_and_key_check(
    admin_api, model
):
    # given: a model saved before its SQL was refused (U& hides pg_read_file)
    SqlModel.objects.filter(pk=model.pk).update(
        sql="SELECT 1 AS id, U&\"\\0070g_read_file\"('PG_VERSION') AS f"
    )
    # when
    preview = admin_api.get(reverse("api:model-preview", args=[model.pk]))
    key_check = admin_api.get(reverse("api:model-key-check", args=[model.pk]))
    # then: refused before the warehouse runs it
    for answer in (preview, key_check):
        assert answer.status_code == 400
        assert answer.json()["code"] == "invalid_sql"
        assert "U&" in answer.json()["message"]


def test_a_model_at_the_nesting_limit_is_created_and_previewed_through_the_api(
    admin_api, warehouse, guard_table
):
    # given: the deepest kind of nesting for the parser (three NOTs and a parenthesis a level)
    flag = _nested("NOT NOT NOT ({})", MAX_DEPTH, "ltv > 100").removeprefix("SELECT ")
    sql = f"SELECT id, {flag} AS flag FROM {guard_table}"  # noqa: S608
    # when
    created = _create(admin_api, warehouse, sql)
    # then
    assert created.status_code == 201, created.json()
    preview = admin_api.get(reverse("api:model-preview", args=[created.json()["id"]]))
    assert preview.status_code == 200
    assert sorted(preview.json()["rows"]) == [["c1", True], ["c2", False]]


def test_a_model_at_the_nesting_limit_is_created_on_the_consoles_database(admin, admin_api):
    # given: the console's database, where the model may read only the activation views
    console = services.warehouse_create(actor=admin, name="Console", kind="console")
    flag = _nested("NOT NOT NOT ({})", MAX_DEPTH, "true").removeprefix("SELECT ")
    sql = f"SELECT p.profile_id AS id, {flag} AS flag FROM activation.profiles AS p"  # noqa: S608
    # when
    created = _create(admin_api, console, sql)
    # then
    assert created.status_code == 201, created.content[:300]


@pytest.mark.parametrize("sql", API_PAYLOADS[:3], ids=lambda sql: f"{sql[:30]}…{len(sql)}")
def test_the_model_form_shows_the_refusal_as_a_form_error(admin, admin_client, sql):
    # given
    console = services.warehouse_create(actor=admin, name="Console", kind="console")
    # when
    page = admin_client.post(
        reverse("syncs:model_create"),
        {"name": "Attempt", "warehouse": console.pk, "sql": sql, "primary_key": "id"},
    )
    # then: the form again, with the reason, and nothing saved
    assert page.status_code == 400
    reasons = ("nested too deeply", "too long", "(Unicode escape) strings and names")
    assert any(reason in page.content.decode() for reason in reasons)
    assert not SqlModel.objects.filter(name="Attempt").exists()
