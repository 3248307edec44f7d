"""dbt models as SQL models: a manifest imported on a warehouse (page and API), a model made
from one of its dbt models, a new manifest updating those models, and a finished dbt run
starting the syncs that read what it built."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.syncs import dbt, services
from apps.syncs.models import DbtManifest, RunStatus, SqlModel, SyncRun
from martech.common.errors import ApplicationError
from tests import factories
from tests.conftest import _api_client_for
from tests.destinations.vendors import FakeVendor

from .conftest import destination_for, person_with, sync_for
from .warehouses.duckdb_files import make_database

PEOPLE = "model.shop.dim_people"
ORDERS = "model.shop.fct_orders"


def _test_node(name: str, column: str, model: str) -> dict:
    return {
        "resource_type": "test",
        "unique_id": f"test.shop.{name}_{column}.{model[-4:]}",
        "test_metadata": {"name": name, "kwargs": {"column_name": column}},
        "column_name": column,
        "attached_node": model,
        "depends_on": {"nodes": [model]},
    }


def manifest(description: str = "One row per person.", people_alias: str = "people") -> dict:
    """A small manifest as dbt writes it: two enabled models, a disabled one, a seed, and
    unique + not_null tests on dim_people.id (only unique on fct_orders.order_id)."""
    return {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "dbt_version": "1.8.3",
            "generated_at": "2026-12-07T06:00:00.000000Z",
        },
        "nodes": {
            PEOPLE: {
                "resource_type": "model",
                "unique_id": PEOPLE,
                "name": "dim_people",
                "database": "crm",
                "schema": "main",
                "alias": people_alias,
                "description": description,
                "meta": {},
                "config": {"enabled": True, "meta": {"owner": "dana@acme.example"}},
                "columns": {
                    "id": {"name": "id", "description": "The person's key."},
                    "email": {"name": "email", "description": ""},
                },
            },
            ORDERS: {
                "resource_type": "model",
                "unique_id": ORDERS,
                "name": "fct_orders",
                "relation_name": '"crm"."main"."orders"',
                "description": "",
                "meta": {"owner": "Data team"},
                "config": {"enabled": True},
                "columns": {},
            },
            "model.shop.old": {
                "resource_type": "model",
                "unique_id": "model.shop.old",
                "name": "old",
                "schema": "main",
                "config": {"enabled": False},
            },
            "seed.shop.countries": {"resource_type": "seed", "unique_id": "seed.shop.countries"},
            "t1": _test_node("unique", "id", PEOPLE),
            "t2": _test_node("not_null", "id", PEOPLE),
            "t3": _test_node("unique", "order_id", ORDERS),
        },
    }


@pytest.fixture
def lake(admin, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.MARTECH_DUCKDB_DIRECTORIES = [str(tmp_path / "shared")]
    credentials = make_database(
        tmp_path / "var" / "warehouses",
        "crm.duckdb",
        "CREATE TABLE people (id VARCHAR, email VARCHAR, name VARCHAR, ltv INTEGER)",
        "INSERT INTO people VALUES ('c1', 'one@acme.example', 'One', 1), "
        "('c2', 'two@acme.example', 'Two', 2)",
        "CREATE TABLE customers AS SELECT * FROM people",
        "CREATE TABLE orders (order_id INTEGER, email VARCHAR)",
    )
    return services.warehouse_create(
        actor=admin, name="Lake", kind="duckdb", credentials=credentials
    )


def _upload(client, warehouse, content: bytes, name="manifest.json"):
    return client.post(
        reverse("syncs:warehouse_dbt", args=[warehouse.pk]),
        {"manifest": SimpleUploadedFile(name, content, content_type="application/json")},
    )


# -- parsing -----------------------------------------------------------------------------


def test_parsing_keeps_enabled_models_with_relation_owner_columns_and_tested_key():
    about, models = dbt.parse(manifest(), dialect="duckdb")

    assert about == {"dbt_version": "1.8.3", "generated_at": "2026-12-07T06:00:00.000000Z"}
    assert [m["unique_id"] for m in models] == [PEOPLE, ORDERS]
    people, orders = models
    assert people["relation"] == '"crm"."main"."people"'
    assert people["sql"] == 'SELECT * FROM "crm"."main"."people"'
    assert people["owner"] == "dana@acme.example"
    assert people["columns"] == [
        {"name": "id", "description": "The person's key."},
        {"name": "email", "description": ""},
    ]
    assert people["primary_key"] == "id"
    assert orders["relation"] == '"crm"."main"."orders"'
    assert orders["owner"] == "Data team"
    assert orders["primary_key"] == ""  # unique without not_null is no key


def test_a_relation_is_quoted_for_the_warehouse_dialect():
    node = {"database": "proj", "schema": "marts", "alias": "People"}
    assert dbt.relation(node, "bigquery") == "`proj`.`marts`.`People`"
    assert dbt.relation(node, "postgres") == '"proj"."marts"."People"'


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"not json {", "invalid_manifest"),
        (b'{"nodes": {}}', "invalid_manifest"),
        (
            json.dumps({"metadata": {"dbt_schema_version": "v12"}, "nodes": {}}).encode(),
            "no_dbt_models",
        ),
    ],
)
def test_what_is_not_a_manifest_with_models_is_refused_with_a_code(content, code):
    with pytest.raises(ApplicationError) as caught:
        dbt.parse(dbt.load(content), dialect="duckdb")
    assert caught.value.code == code
    assert caught.value.status == 400


# -- the page ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\x89PNG not json", "not JSON"),
        (b'{"metadata": {}, "nodes": {}}', "not a dbt manifest"),
        (b'{"metadata": {"dbt_schema_version": "v12"}, "nodes": {}}', "no enabled dbt models"),
    ],
)
def test_a_bad_upload_is_a_form_error_and_stores_nothing(admin_client, lake, content, said):
    response = _upload(admin_client, lake, content)

    assert response.status_code == 400
    assert said in response.content.decode()
    assert not DbtManifest.objects.exists()


def test_an_upload_over_the_limit_is_a_form_error(admin_client, lake, monkeypatch):
    monkeypatch.setattr(dbt, "MAX_MANIFEST_BYTES", 100)
    response = _upload(admin_client, lake, json.dumps(manifest()).encode())

    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert not DbtManifest.objects.exists()


def test_a_model_picked_from_an_imported_manifest_previews_and_says_where_it_came_from(
    admin, admin_client, lake
):
    dana = factories.UserFactory(email="dana@acme.example")

    # when: the manifest is uploaded on the warehouse's page
    response = _upload(admin_client, lake, json.dumps(manifest()).encode())
    assert response.status_code == 302
    page = admin_client.get(reverse("syncs:warehouse_dbt", args=[lake.pk])).content.decode()
    assert "dim_people" in page
    assert "fct_orders" in page
    assert "model.shop.old" not in page
    stored = DbtManifest.objects.get(warehouse=lake)
    assert stored.dbt_version == "1.8.3"
    assert len(stored.entries) == 2
    assert AuditEvent.objects.filter(action="syncs.warehouse.dbt_imported").count() == 1

    # when: its dbt model dim_people is picked, keeping the key dbt tests
    response = admin_client.post(
        reverse("syncs:warehouse_dbt_pick", args=[lake.pk]),
        {"unique_id": PEOPLE, "name": "People", "primary_key": "id"},
    )

    # then: a model reads the relation, with dbt's description and owner, and previews
    model = SqlModel.objects.get(name="People")
    assert response.status_code == 302
    assert response["Location"] == reverse("syncs:model_detail", args=[model.pk])
    assert model.sql == 'SELECT * FROM "crm"."main"."people"'
    assert model.dbt_unique_id == PEOPLE
    created = AuditEvent.objects.get(action="syncs.model.created")
    assert created.metadata == {"dbt_unique_id": PEOPLE}
    assert model.owner == dana
    assert model.description == "One row per person."
    assert [c["name"] for c in model.columns] == ["id", "email", "name", "ltv"]
    detail = admin_client.get(reverse("syncs:model_detail", args=[model.pk])).content.decode()
    assert f"from dbt: <code>{PEOPLE}</code>" in detail
    assert "two@acme.example" in detail  # the preview ran


def test_an_owner_with_no_console_account_is_named_in_the_description(admin, lake):
    services.dbt_manifest_import(actor=admin, warehouse=lake, manifest=manifest())
    with pytest.raises(ApplicationError) as caught:  # fct_orders has no tested key
        services.model_from_dbt(actor=admin, warehouse=lake, unique_id=ORDERS)
    assert caught.value.code == "invalid_primary_key"

    model = services.model_from_dbt(
        actor=admin, warehouse=lake, unique_id=ORDERS, primary_key="order_id"
    )
    assert model.owner == admin
    assert model.description == "Owner in dbt: Data team"


def test_picking_a_dbt_model_the_warehouse_does_not_have_is_refused(admin, lake):
    with pytest.raises(ApplicationError) as caught:
        services.model_from_dbt(actor=admin, warehouse=lake, unique_id=PEOPLE)
    assert caught.value.code == "not_a_dbt_model"


def test_importing_again_updates_the_relation_and_description_of_models_made_from_it(admin, lake):
    services.dbt_manifest_import(actor=admin, warehouse=lake, manifest=manifest())
    model = services.model_from_dbt(actor=admin, warehouse=lake, unique_id=PEOPLE)
    by_hand = services.model_create(
        actor=admin, name="By hand", warehouse=lake, sql="SELECT * FROM people", primary_key="id"
    )

    services.dbt_manifest_import(
        actor=admin,
        warehouse=lake,
        manifest=manifest(description="People who bought.", people_alias="customers"),
    )

    model.refresh_from_db()
    assert model.sql == 'SELECT * FROM "crm"."main"."customers"'
    assert model.description == "People who bought.\n\nOwner in dbt: dana@acme.example"
    by_hand.refresh_from_db()
    assert by_hand.sql == "SELECT * FROM people"
    assert AuditEvent.objects.filter(action="syncs.model.updated").count() == 1


# -- the API -----------------------------------------------------------------------------


def test_the_api_imports_a_manifest_and_makes_a_model_from_it(admin_api, lake):
    url = reverse("api:warehouse-dbt-models", args=[lake.pk])
    assert admin_api.get(url).json()["models"] == []

    response = admin_api.post(url, manifest(), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [m["unique_id"] for m in body["models"]] == [PEOPLE, ORDERS]
    assert body["models"][0]["primary_key"] == "id"
    assert body["models"][0]["model"] is None

    made = admin_api.post(
        reverse("api:model-from-dbt"), {"warehouse": lake.pk, "unique_id": PEOPLE}, format="json"
    )
    assert made.status_code == 201, made.content
    assert made.json()["dbt_unique_id"] == PEOPLE
    assert admin_api.get(url).json()["models"][0]["model"] == made.json()["id"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"nodes": {}}, "invalid_manifest"),
        ({"metadata": {"dbt_schema_version": "v12"}, "nodes": {}}, "no_dbt_models"),
        (["not", "a", "manifest"], "invalid_manifest"),
    ],
)
def test_the_api_answers_a_bad_manifest_with_400_and_a_code(admin_api, lake, body, code):
    response = admin_api.post(
        reverse("api:warehouse-dbt-models", args=[lake.pk]), body, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_the_api_answers_a_body_that_is_not_json_with_400(admin_api, lake):
    response = admin_api.generic(
        "POST",
        reverse("api:warehouse-dbt-models", args=[lake.pk]),
        b"not json",
        content_type="application/json",
    )
    assert response.status_code == 400


# -- after a dbt run ---------------------------------------------------------------------


@pytest.fixture
def dbt_syncs(admin, lake, tool, webhook_vendor):
    """Three syncs of the People model made from dim_people (one paused, one into a second
    destination) and one of a model written by hand."""
    services.dbt_manifest_import(actor=admin, warehouse=lake, manifest=manifest())
    people = services.model_from_dbt(actor=admin, warehouse=lake, unique_id=PEOPLE)
    by_hand = services.model_create(
        actor=admin, name="By hand", warehouse=lake, sql="SELECT * FROM people", primary_key="id"
    )
    destination = destination_for(admin, tool, webhook_vendor)
    other = destination_for(admin, tool, webhook_vendor, name="second sink")
    return {
        "built": sync_for(admin, people, destination, name="dbt people"),
        "paused": services.sync_pause(
            actor=admin, sync=sync_for(admin, people, other, name="paused"), paused=True
        ),
        "by_hand": sync_for(admin, by_hand, destination, name="by hand"),
    }


def test_a_finished_dbt_run_starts_the_syncs_of_the_models_it_built_only(admin, dbt_syncs):
    api = _api_client_for(admin)

    response = api.post(
        reverse("api:dbt-run-list"), {"unique_ids": [PEOPLE, "model.shop.other"]}, format="json"
    )

    assert response.status_code == 202, response.content
    runs = response.json()["runs"]
    assert [r["sync"] for r in runs] == [dbt_syncs["built"].pk]
    run = SyncRun.objects.get()
    assert (run.sync, run.trigger, run.status, run.requested_by) == (
        dbt_syncs["built"],
        "dbt",
        RunStatus.QUEUED,
        admin,
    )

    # a second call while that run is queued starts nothing and says why
    again = api.post(reverse("api:dbt-run-list"), {"unique_ids": [PEOPLE]}, format="json")
    assert again.status_code == 202
    assert again.json()["runs"] == []
    assert again.json()["skipped"][0]["code"] == "run_in_progress"


def test_a_dbt_run_trigger_reads_the_successes_of_run_results(admin_api, dbt_syncs):
    results = [
        {"unique_id": ORDERS, "status": "success"},
        {"unique_id": PEOPLE, "status": "error"},
    ]
    refused = admin_api.post(reverse("api:dbt-run-list"), {"results": results}, format="json")
    assert refused.json()["runs"] == []

    results[1]["status"] = "success"
    started = admin_api.post(reverse("api:dbt-run-list"), {"results": results}, format="json")
    assert [r["sync"] for r in started.json()["runs"]] == [dbt_syncs["built"].pk]


def test_a_run_a_dbt_run_starts_into_production_is_held_for_approval(admin, lake, tool):
    from apps.syncs.running import execute

    with FakeVendor("webhook") as vendor:
        services.dbt_manifest_import(actor=admin, warehouse=lake, manifest=manifest())
        people = services.model_from_dbt(actor=admin, warehouse=lake, unique_id=PEOPLE)
        production = destination_for(admin, tool, vendor, environment="production")
        sync = sync_for(admin, people, production, name="to production")

        outcome = services.dbt_run_finished(actor=admin, unique_ids=[PEOPLE])
        execute(outcome["started"][0].pk)

        run = SyncRun.objects.get(sync=sync)
        assert run.status == RunStatus.NEEDS_APPROVAL
        assert "first run" in run.approval_reason
        assert vendor.requests == []


def test_a_dbt_run_trigger_needs_syncs_run(admin, dbt_syncs):
    viewer = person_with(admin, "syncs.view", name="Vera Viewer")
    runner = person_with(admin, "syncs.view", "syncs.run", name="Rita Runner")

    refused = _api_client_for(viewer).post(
        reverse("api:dbt-run-list"), {"unique_ids": [PEOPLE]}, format="json"
    )
    started = _api_client_for(runner).post(
        reverse("api:dbt-run-list"), {"unique_ids": [PEOPLE]}, format="json"
    )

    assert refused.status_code == 403
    assert started.status_code == 202
    assert SyncRun.objects.get().requested_by == runner


@pytest.mark.parametrize("body", [{"unique_ids": "x"}, {}, {"results": [{"status": "success"}]}])
def test_a_dbt_run_trigger_without_a_list_of_what_was_built_is_a_400(admin_api, body):
    response = admin_api.post(reverse("api:dbt-run-list"), body, format="json")
    assert response.status_code == 400
    assert response.json()["code"]
    assert not SyncRun.objects.exists()
