"""Warehouses of every kind an engine serves: the form offers each kind with its own
connection details, the API takes a ``credentials`` object checked by the kind's engine, and
no secret is ever sent back (page, API answer, audit record)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils.html import escape

from apps.audit.models import AuditEvent
from apps.syncs import services
from apps.syncs.engine import warehouse as engine
from apps.syncs.forms import WarehouseForm
from apps.syncs.models import Warehouse
from apps.syncs.warehouses import MODULES, engine_for
from martech.common import crypto
from martech.common.errors import ApplicationError

from .conftest import READER, dsn

PASSWORD = "Kind5ecret!"


def _dsn() -> str:
    """The reader's DSN with a password (trust authentication ignores it)."""
    return dsn().replace(f"{READER}@", f"{READER}:{PASSWORD}@")


def _audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values("changes", "metadata", "target_repr")))


def test_the_form_offers_every_registered_kind_with_its_fields_under_its_heading(admin_client):
    page = admin_client.get(reverse("syncs:warehouse_create")).content.decode()
    for kind in MODULES:
        assert f'<option value="{kind}"' in page
        assert f'data-kind-group="{kind}"' in page
        assert escape(engine_for(kind).label) in page
        for field in engine_for(kind).fields:
            assert f'name="cred_{kind}__{field.name}"' in page
    assert "js/warehouse_form.js" in page


@pytest.mark.postgres_only("the warehouse is the PostgreSQL test database")
def test_a_stored_secret_is_optional_on_edit_but_a_stored_required_field_stays_required():
    for kind in MODULES:
        fields = engine_for(kind).fields
        stored = Warehouse(
            kind=kind, dsn_token=crypto.encrypt({f.name: "x" for f in fields}) if fields else ""
        )
        form = WarehouseForm(warehouse=stored)
        for field in fields:
            marked = form.fields[f"cred_{kind}__{field.name}"].schema_required
            assert marked == (field.required and not field.secret), (kind, field.name)


@pytest.mark.postgres_only("the warehouse is the PostgreSQL test database")
def test_a_redshift_warehouse_connects_through_the_form_and_its_dsn_is_never_shown(
    admin, admin_client
):
    # when a Redshift warehouse is connected through the form
    answer = admin_client.post(
        reverse("syncs:warehouse_create"),
        {
            "name": "Redshift",
            "kind": "redshift",
            "cred_redshift__dsn": _dsn(),
            "cred_postgres__dsn": "postgresql://other@127.0.0.1/ignored",
            "statement_timeout": 30,
        },
    )
    # then it is stored with the chosen kind's DSN only, encrypted
    assert answer.status_code == 302, answer.content.decode()[:500]
    warehouse = Warehouse.objects.get(name="Redshift")
    assert warehouse.kind == "redshift"
    assert crypto.decrypt(warehouse.dsn_token) == {"dsn": _dsn()}
    # and its page shows the kind and where it is, never the password
    detail = admin_client.get(answer.url).content.decode()
    assert "Amazon Redshift" in detail
    assert warehouse.display in detail
    assert "DSN stored encrypted" in detail
    edit = admin_client.get(reverse("syncs:warehouse_edit", args=[warehouse.pk])).content.decode()
    assert "Stored. Leave blank to keep it." in edit
    for shown in (detail, edit):
        assert PASSWORD not in shown
    # when it is saved again with the DSN left blank
    again = admin_client.post(
        reverse("syncs:warehouse_edit", args=[warehouse.pk]),
        {
            "name": "Redshift 2",
            "kind": "redshift",
            "cred_redshift__dsn": "",
            "statement_timeout": 9,
        },
    )
    # then the stored DSN is kept
    assert again.status_code == 302
    warehouse.refresh_from_db()
    assert (warehouse.name, warehouse.statement_timeout) == ("Redshift 2", 9)
    assert crypto.decrypt(warehouse.dsn_token) == {"dsn": _dsn()}
    assert PASSWORD not in _audit_text()


def test_a_refused_dsn_is_shown_beside_its_field_and_the_typed_secret_is_not_sent_back(
    admin_client,
):
    answer = admin_client.post(
        reverse("syncs:warehouse_create"),
        {
            "name": "R",
            "kind": "redshift",
            "cred_redshift__dsn": f"postgresql://r:{PASSWORD}@127.0.0.1/db?sslkey=/etc/shadow",
            "statement_timeout": 30,
        },
    )
    assert answer.status_code == 400
    form = answer.context["form"]
    assert "sslkey" in " ".join(form.errors["cred_redshift__dsn"])
    assert not form.non_field_errors()
    assert PASSWORD not in answer.content.decode()
    assert not Warehouse.objects.exists()


def test_the_console_kind_reads_no_credentials_even_if_other_kinds_fields_are_filled(
    admin_client,
):
    answer = admin_client.post(
        reverse("syncs:warehouse_create"),
        {
            "name": "Console",
            "kind": "console",
            "cred_postgres__dsn": _dsn(),
            "statement_timeout": 30,
        },
    )
    assert answer.status_code == 302
    warehouse = Warehouse.objects.get()
    assert (warehouse.kind, warehouse.dsn_token) == ("console", "")
    assert warehouse.display == "the console's database"


@pytest.mark.postgres_only("the warehouse is the PostgreSQL test database")
def test_the_api_creates_a_warehouse_of_a_kind_from_a_credentials_object_never_echoed(
    admin_api,
):
    answer = admin_api.post(
        reverse("api:warehouse-list"),
        {"name": "RS", "kind": "redshift", "credentials": {"dsn": _dsn()}},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["kind"], body["kind_label"]) == ("redshift", "Amazon Redshift")
    assert body["display"].endswith(f"as {READER}")
    assert "credentials" not in body
    assert PASSWORD not in answer.content.decode()
    shown = admin_api.get(reverse("api:warehouse-detail", args=[body["id"]]))
    assert PASSWORD not in shown.content.decode()
    # a partial update without credentials, or with the secret blank, keeps it
    for change in ({"name": "RS2"}, {"credentials": {"dsn": ""}}):
        patched = admin_api.patch(
            reverse("api:warehouse-detail", args=[body["id"]]), change, format="json"
        )
        assert patched.status_code == 200, patched.json()
    stored = Warehouse.objects.get(pk=body["id"])
    assert crypto.decrypt(stored.dsn_token) == {"dsn": _dsn()}
    assert PASSWORD not in _audit_text()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"kind": "oracle", "credentials": {"dsn": "postgresql://r@127.0.0.1/db"}}, "invalid_kind"),
        ({"kind": "postgres", "credentials": {"password": "x"}}, "invalid_credentials"),
        ({"kind": "redshift", "credentials": {}}, "invalid_dsn"),
        ({"kind": "redshift", "credentials": {"dsn": "host=/tmp dbname=x"}}, "invalid_dsn"),
        ({"kind": "postgres", "credentials": "postgresql://r@127.0.0.1/db"}, "invalid"),
    ],
)
def test_credentials_a_kind_does_not_take_are_a_400_with_a_code(admin_api, payload, code):
    answer = admin_api.post(reverse("api:warehouse-list"), {"name": "W", **payload}, format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] == code
    assert not Warehouse.objects.exists()


@pytest.mark.postgres_only("the warehouse is the PostgreSQL test database")
def test_the_connection_test_endpoint_works_for_every_kind_this_server_can_reach(
    admin, admin_api, settings
):
    reachable = {
        "console": services.warehouse_create(actor=admin, name="C", kind="console"),
        "postgres": services.warehouse_create(
            actor=admin, name="P", kind="postgres", credentials={"dsn": dsn()}
        ),
        "redshift": services.warehouse_create(
            actor=admin, name="R", kind="redshift", credentials={"dsn": dsn()}
        ),
    }
    for kind, warehouse in reachable.items():
        answer = admin_api.post(reverse("api:warehouse-test", args=[warehouse.pk]))
        assert answer.status_code == 200, (kind, answer.content)
        assert answer.json()["ok"], (kind, answer.json())


def test_the_openapi_schema_documents_credentials_per_kind_as_write_only(client):
    schema = client.get("/api/schema/?format=json").json()
    request = schema["components"]["schemas"]["WarehouseRequest"]["properties"]
    credentials = request["credentials"]
    assert credentials["writeOnly"] is True
    assert "dsn" in credentials["properties"]
    for kind in MODULES:
        assert f"{kind}:" in credentials["description"]
    answer = schema["components"]["schemas"]["Warehouse"]["properties"]
    assert "credentials" not in answer
    assert "kind_label" in answer


@pytest.mark.postgres_only("the warehouse is the PostgreSQL test database")
def test_the_audit_of_an_update_names_the_credentials_that_changed_not_their_values(admin):
    warehouse = services.warehouse_create(
        actor=admin, name="P", kind="postgres", credentials={"dsn": dsn()}
    )
    services.warehouse_update(actor=admin, warehouse=warehouse, credentials={"dsn": _dsn()})
    record = AuditEvent.objects.filter(action="syncs.warehouse.updated").get()
    assert record.metadata["credentials_changed"] == ["dsn"]
    assert PASSWORD not in _audit_text()


@pytest.mark.postgres_only("the warehouse is the PostgreSQL test database")
def test_a_new_kind_starts_from_no_credentials(admin):
    warehouse = services.warehouse_create(
        actor=admin, name="P", kind="postgres", credentials={"dsn": _dsn()}
    )
    with pytest.raises(ApplicationError) as caught:
        services.warehouse_update(actor=admin, warehouse=warehouse, kind="redshift")
    assert caught.value.code == "invalid_dsn"
    moved = services.warehouse_update(
        actor=admin, warehouse=warehouse, kind="redshift", credentials={"dsn": _dsn()}
    )
    assert moved.kind == "redshift"
    assert moved.dsn_token


def test_a_warehouse_of_a_kind_no_engine_serves_shows_and_refuses_to_read(
    admin, admin_client, admin_api
):
    # given a warehouse stored with a kind whose engine is gone
    stored = Warehouse.objects.create(name="Old", kind="oracle", display="db.acme.example")
    # then its pages show the kind as stored, and reading it is a 400
    assert (
        "oracle"
        in admin_client.get(reverse("syncs:warehouse_detail", args=[stored.pk])).content.decode()
    )
    assert admin_client.get(reverse("syncs:warehouse_list")).status_code == 200
    answer = admin_api.post(reverse("api:warehouse-test", args=[stored.pk]))
    assert answer.status_code == 200
    assert answer.json()["ok"] is False
    with pytest.raises(ApplicationError) as caught:
        engine.preview(stored, "SELECT 1 AS id")
    assert caught.value.code == "invalid_kind"
