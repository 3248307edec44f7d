"""A company warehouse's DSN and role: checked when saved and again at connect. No file
options, no socket path, one host the egress policy allows, a role that is neither a
superuser nor holds the server's file, program or signal roles, and no message that repeats
the password."""

from __future__ import annotations

import logging
import uuid

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from apps.syncs import services
from apps.syncs.engine import warehouse as engine
from apps.syncs.models import SqlModel, Warehouse
from martech.common import crypto
from martech.common.errors import ApplicationError

from .conftest import admin_dsn, destination_for, run_now, sync_for

PASSWORD = "WhPassw0rd"


def _where() -> str:
    db = connection.settings_dict
    return f"{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.parametrize(
    ("dsn", "code", "says"),
    [
        ("postgresql://r@127.0.0.1/db?sslkey=/etc/shadow", "invalid_dsn", "sslkey"),
        ("postgresql://r@127.0.0.1/db?passfile=/etc/passwd", "invalid_dsn", "passfile"),
        (
            "host=127.0.0.1 dbname=db sslrootcert=/etc/ssl/private/key.pem",
            "invalid_dsn",
            "sslrootcert",
        ),
        ("host=127.0.0.1 dbname=db sslcert=/x sslcrl=/y", "invalid_dsn", "sslcert, sslcrl"),
        ("service=prod dbname=db host=127.0.0.1", "invalid_dsn", "service"),
        ("host=/var/run/postgresql dbname=martech", "invalid_dsn", "socket path"),
        ("postgresql:///martech?host=/var/run/postgresql", "invalid_dsn", "socket path"),
        ("host=@abstract dbname=martech", "invalid_dsn", "socket path"),
        ("dbname=martech user=postgres", "invalid_dsn", "no host"),
        ("postgresql://r@127.0.0.1,10.0.0.5/db", "invalid_dsn", "several hosts"),
        ("host=127.0.0.1 hostaddr=10.0.0.5 dbname=db", "invalid_dsn", "hostaddr"),
        ("host=127.0.0.1 dbname=db options='-c search_path=x'", "invalid_dsn", "options"),
        ("postgresql://r@169.254.169.254/db", "egress_refused", "link-local"),
        ("postgresql://r@10.0.0.5:5432/db", "egress_refused", "private"),
        ("postgresql://r@[::ffff:169.254.169.254]/db", "egress_refused", "169.254.169.254"),
        ("postgresql://r@metadata.google.internal/db", "egress_refused", "internal"),
    ],
)
def test_a_dsn_that_reads_files_or_reaches_inside_is_refused_when_saved(admin_api, dsn, code, says):
    answer = admin_api.post(
        reverse("api:warehouse-list"), {"name": "W", "kind": "postgres", "dsn": dsn}, format="json"
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] == code
    assert says in answer.json()["message"]
    assert not Warehouse.objects.exists()


def test_a_loopback_warehouse_is_refused_unless_the_operator_allows_it(admin, settings):
    settings.MARTECH_EGRESS_ALLOW = []
    with pytest.raises(ApplicationError) as caught:
        services.warehouse_create(
            actor=admin, name="W", kind="postgres", dsn=f"postgresql://reader@{_where()}"
        )
    assert caught.value.code == "egress_refused"


def test_a_badly_encoded_dsn_is_a_400_that_never_repeats_the_password(admin_api, admin_client):
    dsn = f"postgresql://reader:{PASSWORD}%zzB@127.0.0.1:5432/analytics"
    answer = admin_api.post(
        reverse("api:warehouse-list"), {"name": "W", "kind": "postgres", "dsn": dsn}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_dsn"
    assert PASSWORD not in answer.content.decode()
    page = admin_client.post(
        reverse("syncs:warehouse_create"),
        {"name": "W", "kind": "postgres", "dsn": dsn, "statement_timeout": 30},
    )
    assert page.status_code == 400  # the form again, with the error
    assert "not valid" in page.content.decode()
    assert PASSWORD not in page.content.decode()


def _stored(admin, dsn: str) -> Warehouse:
    """A warehouse whose DSN was saved before today's rules (written past the service)."""
    return Warehouse.objects.create(
        name="Old",
        kind="postgres",
        display="old",
        dsn_token=crypto.encrypt({"dsn": dsn}),
        created_by=admin,
    )


@pytest.mark.parametrize(
    ("dsn", "code"),
    [
        (f"postgresql://reader:{PASSWORD}%zzB@127.0.0.1:5432/analytics", "invalid_dsn"),
        (f"postgresql://reader:{PASSWORD}@127.0.0.1:5432/db?sslkey=/etc/shadow", "invalid_dsn"),
        (f"host=/var/run/postgresql dbname=martech password={PASSWORD}", "invalid_dsn"),
        (f"postgresql://reader:{PASSWORD}@169.254.169.254/db", "egress_refused"),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_a_stored_dsn_is_checked_again_at_connect_and_no_message_repeats_its_password(
    admin, admin_api, tool, webhook_vendor, dsn, code, caplog
):
    caplog.set_level(logging.DEBUG)
    # given a warehouse stored before the rules, with a model and a sync on it
    warehouse = _stored(admin, dsn)
    model = SqlModel.objects.create(
        name="M",
        warehouse=warehouse,
        primary_key="id",
        sql="SELECT 1 AS id, 'a@acme.example' AS email",
        columns=[{"name": "id", "type": "int4"}, {"name": "email", "type": "text"}],
    )
    destination = destination_for(admin, tool, webhook_vendor)
    sync = sync_for(admin, model, destination, mappings=[])
    # when it is tested, previewed and run
    ok, message = services.warehouse_test(actor=admin, warehouse=warehouse)
    preview = admin_api.get(reverse("api:model-preview", args=[model.pk]))
    run = run_now(admin, sync)
    # then each refuses it for the same reason, and the password is nowhere
    assert not ok
    assert (preview.status_code, preview.json()["code"]) == (400, code)
    assert run.status == "failed"
    warehouse.refresh_from_db()
    for text in (
        message,
        preview.content.decode(),
        run.error,
        warehouse.last_test_message,
        caplog.text,
    ):
        assert PASSWORD not in text
    assert webhook_vendor.requests == []


@pytest.fixture
def powerful_role(db):
    """A login role that is a member of pg_read_server_files (as some "read-only" roles are),
    dropped afterwards."""
    name = f"martech_test_filereader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN NOSUPERUSER IN ROLE pg_read_server_files")
    yield name
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {name}")


@pytest.mark.parametrize("role", ["superuser", "file reader"])
def test_a_warehouse_whose_role_has_power_over_the_server_is_refused_at_connect(
    admin, admin_api, role, powerful_role
):
    user = connection.settings_dict["USER"] if role == "superuser" else powerful_role
    warehouse = services.warehouse_create(
        actor=admin, name="Analytics", kind="postgres", dsn=f"postgresql://{user}@{_where()}"
    )
    ok, message = services.warehouse_test(actor=admin, warehouse=warehouse)
    assert not ok
    assert f"logs in as {user!r}" in message
    assert ("superuser" if role == "superuser" else "pg_read_server_files") in message
    created = admin_api.post(
        reverse("api:model-list"),
        {"name": "Files", "warehouse": warehouse.pk, "sql": "SELECT 1 AS id", "primary_key": "id"},
        format="json",
    )
    assert created.status_code == 400
    assert created.json()["code"] == "warehouse_role_too_powerful"
    with pytest.raises(ApplicationError) as caught:
        engine.preview(warehouse, "SELECT pg_read_file('PG_VERSION') AS f")
    assert caught.value.code in ("warehouse_role_too_powerful", "invalid_sql")


def test_a_host_that_does_not_resolve_yet_is_saved_and_checked_when_connecting(admin):
    warehouse = services.warehouse_create(
        actor=admin, name="Later", kind="postgres", dsn="postgresql://r@db.acme.invalid/db"
    )
    ok, message = services.warehouse_test(actor=admin, warehouse=warehouse)
    assert not ok
    assert "does not resolve" in message
