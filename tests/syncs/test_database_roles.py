"""Production's database roles, as docker compose sets them up: the init script creates a
console owner that is not a superuser and the activation role; every migration runs as the
owner; the activation role reads the views and nothing else; the system check warns only
when the console connects as a superuser."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml
from django.db import connection, connections

from .conftest import admin_dsn

ROOT = Path(__file__).resolve().parents[2]
INIT = ROOT / "deploy" / "postgres-init" / "10-roles.sh"

pytestmark = pytest.mark.slow


def test_compose_runs_the_console_as_its_owner_role_created_by_the_init_script():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    postgres = compose["services"]["postgres"]
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    admin = postgres["environment"]["POSTGRES_USER"]
    assert admin != "martech"  # the administrator is nobody the console logs in as
    for name in ("migrate", "web", "worker", "beat"):
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://martech:"), name
        assert env["MARTECH_ACTIVATION_USER"] == postgres["environment"]["MARTECH_ACTIVATION_USER"]
    assert os.access(INIT, os.X_OK)


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="martech.settings.test", **extra)
    return env


def _manage(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def fresh(db):
    """Names for a database, its owner and an activation role, dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    names = {
        "db": f"martech_roles_{suffix}",
        "owner": f"martech_owner_{suffix}",
        "reader": f"martech_activation_{suffix}",
    }
    yield names
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{names["db"]}" WITH (FORCE)')
        for role in (names["owner"], names["reader"]):
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_every_migration_runs_as_a_non_superuser_owner_and_the_activation_role_reads_only_views(
    fresh,
):
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", str(db["PORT"] or 5432)
    # given the administrator has run the init script, as the postgres image does
    script = subprocess.run(
        ["bash", str(INIT)],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "PGHOST": host,
            "PGPORT": port,
            "POSTGRES_USER": db["USER"],
            "POSTGRES_DB": "postgres",
            "MARTECH_DB_NAME": fresh["db"],
            "MARTECH_DB_USER": fresh["owner"],
            "MARTECH_DB_PASSWORD": "owner-pw",
            "MARTECH_ACTIVATION_USER": fresh["reader"],
            "MARTECH_ACTIVATION_PASSWORD": "reader-pw",
        },
    )
    assert script.returncode == 0, script.stderr
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        flags = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s",
            [fresh["owner"]],
        ).fetchone()
    assert flags == (False, False, False)
    url = f"postgres://{fresh['owner']}:owner-pw@{host}:{port}/{fresh['db']}"

    # when the console migrates with an activation role nobody created
    missing = _manage(
        "migrate",
        "--noinput",
        DATABASE_URL=url,
        MARTECH_ACTIVATION_USER=f"{fresh['reader']}_missing",
    )
    # then the migration says what to do instead of granting to nobody
    assert missing.returncode != 0
    assert "does not exist" in missing.stderr
    assert "may not create roles" in missing.stderr
    assert "10-roles.sh" in missing.stderr

    # when it migrates with the role the script created
    done = _manage(
        "migrate", "--noinput", DATABASE_URL=url, MARTECH_ACTIVATION_USER=fresh["reader"]
    )
    assert done.returncode == 0, done.stderr[-3000:]

    # then the activation role reads the views, owned by the console's role, and nothing else
    reader = f"postgresql://{fresh['reader']}:reader-pw@{host}:{port}/{fresh['db']}"
    with psycopg.connect(reader, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (0,)
        owners = conn.execute(
            "SELECT DISTINCT viewowner::text FROM pg_views WHERE schemaname = 'activation'"
        ).fetchall()
        assert owners == [(fresh["owner"],)]
        for statement in (
            "SELECT * FROM public.django_session",
            "SELECT * FROM public.accounts_user",
            "SELECT pg_read_file('PG_VERSION')",
            "CREATE TEMP TABLE t (a int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)

    # and the system check is quiet for the owner and warns for a superuser
    quiet = _manage(
        "check", "--database", "default", DATABASE_URL=url, MARTECH_ACTIVATION_USER=fresh["reader"]
    )
    assert quiet.returncode == 0, quiet.stderr
    assert "martech.W0" not in quiet.stdout + quiet.stderr
    superuser = f"postgres://{db['USER']}@{host}:{port}/{fresh['db']}"
    loud = _manage(
        "check",
        "--database",
        "default",
        DATABASE_URL=superuser,
        MARTECH_ACTIVATION_USER=fresh["reader"],
    )
    assert "martech.W010" in loud.stdout + loud.stderr
    # and it says so when the activation role the settings name is missing
    lost = _manage(
        "check",
        "--database",
        "default",
        DATABASE_URL=url,
        MARTECH_ACTIVATION_USER=f"{fresh['reader']}_missing",
    )
    assert "martech.W011" in lost.stdout + lost.stderr


@pytest.fixture
def role_name(db):
    name = f"martech_race_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def _ensure_role_in_a_thread(role: str, password: str, errors: list) -> threading.Thread:
    migration = importlib.import_module("apps.syncs.migrations.0004_activation_views")

    def run():
        try:
            with connections["default"].schema_editor() as editor:
                migration.ensure_role(editor, role, password)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_migrations_creating_the_activation_role_at_once_both_succeed(role_name):
    # given another database's migration creating the role, not committed yet
    other = psycopg.connect(admin_dsn())
    other.execute(f'CREATE ROLE "{role_name}" LOGIN')
    # when this one creates it too
    errors: list = []
    thread = _ensure_role_in_a_thread(role_name, "", errors)
    thread.join(timeout=1.5)
    assert thread.is_alive()  # it waits for the other one's CREATE ROLE
    other.commit()
    other.close()
    thread.join(timeout=30)
    # then it takes the role the other made instead of failing
    assert not thread.is_alive()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_creates_the_activation_role_with_its_password(role_name):
    errors: list = []
    _ensure_role_in_a_thread(role_name, "it's a pass-phrase", errors).join(timeout=30)
    assert errors == []
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT rolcanlogin, rolsuper, rolpassword IS NOT NULL FROM pg_authid "
            "WHERE rolname = %s",
            [role_name],
        ).fetchone()
    assert row == (True, False, True)
