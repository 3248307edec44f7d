"""DuckDB as a warehouse: which files a connection may name, what a reading connection
refuses even when the guard is passed by, the statement timeout, a file another process
writes, and MotherDuck's credentials."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from apps.syncs import services
from apps.syncs.models import RunStatus
from apps.syncs.warehouses import engine_for, kinds
from martech.common.errors import ApplicationError

from ..conftest import destination_for, run_now, sent_rows, sync_for
from .duckdb_files import make_database

ENGINE = engine_for("duckdb")
TOKEN = "md-secret-token-1234567890"


@pytest.fixture
def var(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.MARTECH_DUCKDB_DIRECTORIES = [str(tmp_path / "shared")]
    return tmp_path / "var" / "warehouses"


@pytest.fixture
def people(var):
    return make_database(
        var,
        "people.duckdb",
        "CREATE TABLE people AS SELECT range AS id, 'p' || range AS name FROM range(100)",
    )


def _error(call, *args, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call(*args, **kwargs)
    assert caught.value.status == 400
    return caught.value


def test_duckdb_is_a_kind_with_its_label():
    assert ("duckdb", "DuckDB / MotherDuck") in kinds()


def test_a_relative_path_is_kept_as_given_and_lives_under_the_warehouses_folder(var):
    cleaned = ENGINE.clean({"path": "marketing/crm.duckdb"})
    assert cleaned.credentials == {"path": "marketing/crm.duckdb", "token": ""}
    assert cleaned.display == "DuckDB marketing/crm.duckdb"
    assert ENGINE.endpoints(cleaned.credentials) == []


def test_an_absolute_path_in_an_allowed_directory_is_accepted(var, tmp_path):
    path = str(tmp_path / "shared" / "models.duckdb")
    assert ENGINE.clean({"path": path}).credentials["path"] == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "~/crm.duckdb",
        "../martech.sqlite3",
        "marketing/../../secret_key",
        "/etc/passwd",
        "/tmp/elsewhere.duckdb",
        "s3://bucket/crm.duckdb",
        "https://example.com/crm.duckdb",
        ":memory:",
        "md:crm?motherduck_token=x",
        "md:crm;other",
    ],
)
def test_paths_outside_the_allowed_directories_are_refused(var, path):
    error = _error(ENGINE.clean, {"path": path, "token": "x"})
    assert error.code == "invalid_credentials"
    assert error.details["field"] == "path"


def test_system_and_console_files_are_refused_even_when_a_setting_allows_their_parent(
    var, settings
):
    settings.MARTECH_DUCKDB_DIRECTORIES = ["/", str(settings.VAR_DIR)]
    for path in ("/etc/passwd", "/proc/self/environ", str(settings.VAR_DIR / "secret_key")):
        assert _error(ENGINE.clean, {"path": path}).code == "invalid_credentials"


def test_a_symbolic_link_out_of_the_warehouses_folder_is_refused(var):
    var.mkdir(parents=True)
    (var / "escape.duckdb").symlink_to("/etc/passwd")
    assert _error(ENGINE.clean, {"path": "escape.duckdb"}).details["field"] == "path"


def test_motherduck_needs_a_token_which_is_kept_when_left_blank_and_never_shown(var):
    assert _error(ENGINE.clean, {"path": "md:analytics"}).details["field"] == "token"
    cleaned = ENGINE.clean({"path": "md:analytics", "token": TOKEN})
    assert cleaned.credentials == {"path": "md:analytics", "token": TOKEN}
    assert TOKEN not in cleaned.display
    kept = ENGINE.clean({"path": "md:analytics", "token": ""}, previous=cleaned.credentials)
    assert kept.credentials["token"] == TOKEN
    assert ENGINE.endpoints(kept.credentials) == [("api.motherduck.com", 443)]


def test_a_motherduck_connection_that_cannot_be_made_is_a_400_without_the_token(var):
    started = time.monotonic()
    error = _error(ENGINE.preview, {"path": "md:analytics", "token": TOKEN}, "SELECT 1", timeout=5)
    assert time.monotonic() - started < 5
    assert error.code in ("egress_unresolved", "egress_refused", "warehouse_unreachable")
    assert TOKEN not in error.message


def test_version_names_duckdb(people):
    with ENGINE.reading(people, timeout=5) as conn:
        assert ENGINE.version(conn).startswith(f"DuckDB v{duckdb.__version__}")


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "ATTACH '/tmp/other.duckdb' AS other",
        "COPY people TO '/tmp/people.csv'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "RESET lock_configuration",
        "CREATE TABLE stolen AS SELECT 1",
        "INSERT INTO people VALUES (1000, 'x')",
    ],
)
def test_a_reading_connection_refuses_files_extensions_settings_and_writes_by_itself(
    people, statement
):
    with ENGINE.reading(people, timeout=5) as conn:
        cursor = conn.cursor()
        with pytest.raises(duckdb.Error):
            cursor.execute(statement)


def test_every_cursor_reads_time_zones_in_utc_within_the_memory_limit_and_cannot_change_it(
    people, settings
):
    settings.MARTECH_DUCKDB_MEMORY_LIMIT = "100MB"
    with ENGINE.reading(people, timeout=5) as conn:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT current_setting('TimeZone'), current_setting('memory_limit'), "
            "CAST(TIMESTAMPTZ '2026-01-01 12:00:00+02' AS VARCHAR)"
        )
        assert cursor.fetchone() == ("UTC", "95.3 MiB", "2026-01-01 10:00:00+00")
        with pytest.raises(duckdb.Error):
            cursor.execute("SET TimeZone = 'America/New_York'")


def test_two_reading_connections_to_one_file_may_be_open_at_once(people):
    with ENGINE.reading(people, timeout=5) as first, ENGINE.reading(people, timeout=5) as second:
        for conn in (first, second):
            cursor = conn.cursor()
            cursor.execute("SELECT count(*) FROM people")
            assert cursor.fetchone() == (100,)


def test_a_long_query_is_interrupted_at_the_statement_timeout_as_a_400(people):
    started = time.monotonic()
    error = _error(
        ENGINE.preview,
        people,
        "SELECT count(*) FROM range(1000000000) AS a CROSS JOIN range(1000000000) AS b "
        "WHERE a.range + b.range = -1",
        timeout=1,
    )
    assert time.monotonic() - started < 3
    assert error.code == "query_failed"
    assert "statement timeout" in error.message


def test_a_stream_is_interrupted_at_the_statement_timeout_as_a_400(people):
    started = time.monotonic()
    slow = (
        "SELECT a.range AS id FROM range(100000000) AS a CROSS JOIN range(100) AS b "
        "WHERE md5(CAST(a.range * b.range AS VARCHAR)) = 'x'"
    )
    with pytest.raises(ApplicationError) as caught:
        for _ in ENGINE.stream_keyed(people, slow, "id", ["id"], timeout=1):
            pass
    assert time.monotonic() - started < 3
    assert caught.value.code == "query_failed"


def test_a_missing_file_is_a_400(var):
    assert _error(ENGINE.preview, {"path": "nowhere.duckdb"}, "SELECT 1", timeout=5).code == (
        "warehouse_unreachable"
    )


@pytest.mark.slow
def test_a_file_another_process_writes_is_refused_at_once_as_busy(people, var):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys, time
                connection = duckdb.connect({str(var / "people.duckdb")!r})
                print("open", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        started = time.monotonic()
        error = _error(ENGINE.preview, people, "SELECT * FROM people", timeout=5)
        assert time.monotonic() - started < 2
        assert error.code == "warehouse_busy"
        assert str(holder.pid) not in error.message
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


@pytest.mark.slow
def test_listing_the_kinds_loads_no_connector():
    code = (
        "import django, sys; django.setup(); "
        "from apps.syncs.warehouses import kinds; kinds(); "
        "print('duckdb' in sys.modules, 'pandas' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "martech.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[3],
        check=True,
    )
    assert done.stdout.strip() == "False False"


def test_a_sync_from_duckdb_sends_every_row_then_only_what_changed(
    admin, var, tool, webhook_vendor
):
    # given: a DuckDB file with three people, one keyed outside ASCII
    credentials = make_database(
        var,
        "crm.duckdb",
        "CREATE TABLE people (id VARCHAR, email VARCHAR, name VARCHAR, ltv INTEGER)",
        "INSERT INTO people VALUES ('c1', 'one@acme.example', 'Person 1', 1), "
        "('c2', 'two@acme.example', 'Person 2', 2), ('ç3', 'three@acme.example', 'Person 3', 3)",
    )
    warehouse = services.warehouse_create(
        actor=admin, name="Lake", kind="duckdb", credentials=credentials
    )
    model = services.model_create(
        actor=admin,
        name="People",
        warehouse=warehouse,
        primary_key="id",
        sql="SELECT id, email, name, ltv FROM people",
    )
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))

    # when / then: the first run sends every row
    first = run_now(admin, sync)
    assert first.status == RunStatus.SUCCEEDED, first.error
    assert (first.added, first.total) == (3, 3)

    # when: one mapped value changes and one column nobody maps is added
    webhook_vendor.clear()
    with duckdb.connect(str(var / "crm.duckdb")) as connection:
        connection.execute("UPDATE people SET name = 'Person Two' WHERE id = 'c2'")
    second = run_now(admin, sync)
    assert (second.changed, second.unchanged, second.added) == (1, 2, 0)
    assert [r["fields"]["full_name"] for r in sent_rows(webhook_vendor)] == ["Person Two"]
