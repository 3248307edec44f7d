"""The console's own database as a warehouse: a model reads the activation views, as the
activation role, and nothing else of the console (sessions, users, tokens, audit, files).

The activation connection is a connection of its own, so these tests commit their data
(``transaction=True``), as the collection API and the pipeline do."""

from __future__ import annotations

import base64
import json

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from apps.consent.defaults import ensure_default_purposes
from apps.consent.services import consent_record
from apps.events import services as events
from apps.events.pipeline import process_waiting
from apps.syncs import services
from apps.syncs.engine import warehouse as engine
from apps.syncs.models import SqlModel
from apps.syncs.selectors import activation_role
from apps.syncs.warehouses import activation
from martech.common.errors import ApplicationError
from tests.conftest import _api_client_for

from .conftest import person_with

pytestmark = pytest.mark.django_db(transaction=True)

TRAFFIC = [
    {
        "type": "page",
        "messageId": "p1",
        "anonymousId": "c-1",
        "timestamp": "2026-11-30T10:00:00Z",
        "context": {
            "page": {
                "url": "https://www.acme.example/spring?utm_source=newsletter"
                "&utm_medium=email&utm_campaign=spring",
                "path": "/spring",
                "title": "Spring sale",
            }
        },
    },
    {
        "type": "identify",
        "messageId": "i1",
        "userId": "u-1",
        "anonymousId": "c-1",
        "traits": {"email": "ana@acme.example", "plan": "gold"},
        "timestamp": "2026-11-30T10:05:00Z",
    },
    {
        "type": "track",
        "messageId": "t1",
        "userId": "u-1",
        "event": "Order Completed",
        "properties": {"total": 42.5, "currency": "EUR"},
        "timestamp": "2026-11-30T10:06:00Z",
    },
    # the same customer on her phone, anonymous first, then signed in: the profiles merge
    {
        "type": "page",
        "messageId": "p2",
        "anonymousId": "phone-1",
        "timestamp": "2026-11-30T12:00:00Z",
        "context": {"page": {"url": "https://www.acme.example/"}},
    },
    {
        "type": "identify",
        "messageId": "i2",
        "userId": "u-1",
        "anonymousId": "phone-1",
        "traits": {"plan": "platinum"},
        "timestamp": "2026-11-30T12:01:00Z",
    },
]


@pytest.fixture
def traffic(admin):
    """A morning of one customer's traffic, collected and processed, and her consent."""
    ensure_default_purposes()
    _, raw = events.source_create(actor=admin, name="Web", rate_limit=10_000)
    from django.test import Client

    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    # the phone's page is processed before the sign-in that merges its profile
    for batch in (TRAFFIC[:4], TRAFFIC[4:]):
        answer = Client().post(
            "/v1/batch",
            json.dumps({"batch": batch}),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )
        assert answer.status_code == 200, answer.content
        process_waiting()
    consent_record(
        subject=("email", "ana@acme.example"),
        purpose="email_marketing",
        granted=True,
        source="api",
        jurisdiction="gdpr",
        actor=admin,
    )


@pytest.fixture
def console(admin):
    return services.warehouse_create(actor=admin, name="Console", kind="console")


def _rows(preview) -> list[dict]:
    names = [c["name"] for c in preview.columns]
    return [dict(zip(names, row, strict=True)) for row in preview.rows]


def test_a_console_model_previews_events_profiles_identifiers_and_consent(admin, console, traffic):
    # given a model on each activation view
    order = engine.preview(
        console,
        "SELECT event_id, name, user_id, properties ->> 'total' "
        "AS total, page_path FROM activation.events WHERE type = 'track'",
    )
    profile = engine.preview(
        console,
        "SELECT profile_id, status, email, user_id, "
        "traits ->> 'plan' AS plan, first_touch_channel "
        "FROM activation.profiles WHERE email IS NOT NULL",
    )
    known = engine.preview(
        console, "SELECT type, value FROM activation.identifiers ORDER BY type, value"
    )
    consent = engine.preview(
        console,
        "SELECT identifier_value, purpose, granted FROM consent WHERE purpose = 'email_marketing'",
    )
    # then each shows the customer as a marketer expects her
    assert [(r["name"], r["user_id"], r["total"]) for r in _rows(order)] == [
        ("Order Completed", "u-1", "42.5")
    ]
    [ana] = _rows(profile)
    assert (ana["email"], ana["user_id"], ana["plan"], ana["first_touch_channel"]) == (
        "ana@acme.example",
        "u-1",
        "platinum",  # her latest identify, sent from the phone
        "email",
    )
    # every event of hers, the phone's too, belongs to her one standing profile
    owners = engine.preview(console, "SELECT DISTINCT profile_id FROM activation.events")
    assert owners.rows == [(ana["profile_id"],)]
    assert ("email", "ana@acme.example") in known.rows
    assert consent.rows == [("ana@acme.example", "email_marketing", True)]
    # and a model on the views is saved, its key checked
    model = services.model_create(
        actor=admin,
        name="Orders",
        warehouse=console,
        sql="SELECT event_id, name FROM activation.events",
        primary_key="event_id",
    )
    assert engine.check_key(console, model.sql, "event_id").ok


def test_the_activation_views_have_the_columns_the_embedded_mode_has():
    with connection.cursor() as cursor:
        for view, columns in activation.COLUMNS.items():
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE "
                "table_schema = 'activation' AND table_name = %s "
                "ORDER BY ordinal_position",
                [view],
            )
            assert tuple(name for (name,) in cursor.fetchall()) == columns, view


READS_THE_CONSOLE = [
    "SELECT session_key AS id, session_data FROM django_session",
    "SELECT id, password FROM public.accounts_user",
    "SELECT 1 AS id, rolpassword FROM pg_authid",
    "SELECT 1 AS id, query FROM pg_catalog.pg_stat_activity",
    "SELECT id, key_hash FROM events_writekey",
    "SELECT e.event_id AS id FROM activation.events e, audit_auditevent a",
    "SELECT event_id AS id FROM activation.events WHERE event_id IN "
    "(SELECT id FROM erasure_suppression)",
    "WITH t AS (SELECT * FROM accounts_user), accounts_user AS (SELECT 1 AS id) SELECT * FROM t",
    "SELECT * FROM (WITH django_session AS (SELECT 1 AS id) SELECT id FROM django_session) q, "
    "django_session",
    'SELECT 1 AS id FROM "Activation".events',
    "SELECT 1 AS id FROM otherdb.activation.events",
]


@pytest.mark.parametrize("sql", READS_THE_CONSOLE)
def test_a_console_model_that_names_anything_but_the_activation_views_is_a_400(admin, console, sql):
    # given a view-only marketer and an existing model (as if saved before the views)
    model = SqlModel.objects.create(name="M", warehouse=console, sql=sql, primary_key="id")
    marketer = _api_client_for(person_with(admin, "syncs.view", name="Mei View"))
    manager = _api_client_for(person_with(admin, "syncs.view", "syncs.manage", name="Leo"))
    # when the manager saves it and the marketer previews it
    created = manager.post(
        reverse("api:model-list"),
        {"name": "m2", "warehouse": console.pk, "sql": sql, "primary_key": "id"},
        format="json",
    )
    shown = marketer.get(reverse("api:model-preview", args=[model.pk]))
    # then both are refused, and nothing of the console is shown
    for answer in (created, shown):
        assert answer.status_code == 400, answer.content
        assert answer.json()["code"] == "invalid_sql"
        assert set(answer.json()) >= {"code", "message"}
    assert not SqlModel.objects.filter(name="m2").exists()


def test_the_refusal_names_the_table_and_the_views_a_model_may_read(admin, console):
    with pytest.raises(ApplicationError) as caught:
        services.model_create(
            actor=admin,
            name="Sessions",
            warehouse=console,
            sql="SELECT session_key FROM django_session",
            primary_key="session_key",
        )
    assert caught.value.code == "invalid_sql"
    assert "may not read django_session" in caught.value.message
    assert "activation.events" in caught.value.message


def test_the_activation_role_reads_the_views_and_no_console_table_or_server_file(console, traffic):
    """The boundary is the role, not the parser: statements sent straight to the
    connection the models use."""
    with engine.reading(console) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "martech_activation"
        assert conn.execute("SELECT count(*) FROM activation.events").fetchone()[0] == 5
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 5  # search_path
    refused = [
        "SELECT session_key FROM public.django_session",
        "SELECT password FROM public.accounts_user",
        "SELECT * FROM public.events_event",
        "SELECT rolpassword FROM pg_authid",
        "SELECT pg_read_file('PG_VERSION')",
        "SELECT pg_ls_dir('.')",
        "SELECT query_to_xml('select session_key from public.django_session', true, false, '')",
    ]
    for statement in refused:
        with engine.reading(console) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


@pytest.mark.postgres_only("the activation role")
def test_the_activation_role_may_select_every_view_of_the_schema_and_nothing_in_public(console):
    # every relation of schema activation is a published view, and the role reads each
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relkind FROM pg_class c "
            "WHERE c.relnamespace = 'activation'::regnamespace ORDER BY 1"
        )
        assert cursor.fetchall() == [(view, "v") for view in sorted(activation.COLUMNS)]
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
            "AND (has_table_privilege(%(role)s, c.oid, 'SELECT') "
            "OR has_any_column_privilege(%(role)s, c.oid, 'SELECT'))",
            {"role": activation_role()},
        )
        assert cursor.fetchall() == []
        cursor.execute("SELECT has_schema_privilege(%s, 'public', 'USAGE')", [activation_role()])
        assert cursor.fetchone() == (False,)
    for view, columns in activation.COLUMNS.items():
        with engine.reading(console) as conn:
            read = conn.execute(f"SELECT * FROM activation.{view} LIMIT 1")  # noqa: S608
            assert tuple(d.name for d in read.description) == columns, view


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 AS id, U&\"\\0070g_read_file\"('PG_VERSION') AS f",
        "SELECT 1 AS id, query_to_xml('select pg_read_file(''PG_VERSION'') as f', true, false, "
        "'')::text AS x",
        "SELECT 1 AS id, query_to_xml('select session_key from django_session', true, false, "
        "'')::text AS x",
        "SELECT 1 AS id, pg_ls_waldir() AS f",
    ],
)
def test_server_functions_in_a_console_model_are_a_400_never_a_500_nor_data(
    admin_api, console, sql
):
    model = SqlModel.objects.create(name="F", warehouse=console, sql=sql, primary_key="id")
    answer = admin_api.get(reverse("api:model-preview", args=[model.pk]))
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] in ("invalid_sql", "query_failed")


def test_a_console_warehouse_whose_role_is_a_superuser_is_refused(admin, console, settings):
    settings.MARTECH_ACTIVATION_USER = connection.settings_dict["USER"]  # postgres
    with pytest.raises(ApplicationError) as caught:
        engine.preview(console, "SELECT 1 AS id")
    assert caught.value.code == "warehouse_role_too_powerful"
    assert caught.value.status == 400
    assert "superuser" in caught.value.message


def test_the_console_warehouse_page_lists_what_a_model_may_read(admin, admin_client, console):
    page = admin_client.get(reverse("syncs:warehouse_detail", args=[console.pk])).content.decode()
    assert 'data-testid="activation-views"' in page
    for view, columns in activation.COLUMNS.items():
        assert f"activation.{view}" in page
        assert ", ".join(columns) in page
