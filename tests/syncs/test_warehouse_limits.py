"""A warehouse's free text is bounded: a megabyte of description is a 400, not a stored page
(and an audit record) of that size."""

import pytest

from apps.syncs import services
from apps.syncs.models import Warehouse
from martech.common.errors import ApplicationError


@pytest.mark.django_db
def test_a_description_longer_than_two_thousand_characters_is_refused_by_service_and_api(
    admin, admin_api
):
    with pytest.raises(ApplicationError) as refused:
        services.warehouse_create(
            actor=admin, name="Console", kind="console", description="x" * 2001
        )
    assert refused.value.code == "invalid_description"

    answer = admin_api.post(
        "/api/v1/warehouses/",
        {"name": "Console", "kind": "console", "description": "x" * 1_000_000},
        format="json",
    )

    assert answer.status_code == 400
    assert not Warehouse.objects.exists()


@pytest.mark.django_db
def test_a_warehouse_keeps_its_kind_while_models_read_it_and_the_console_kind_never_changes(
    admin, settings, tmp_path
):
    settings.MARTECH_DUCKDB_DIRECTORIES = [str(tmp_path)]
    console = services.warehouse_create(actor=admin, name="Console", kind="console")
    with pytest.raises(ApplicationError) as refused:
        services.warehouse_update(
            actor=admin,
            warehouse=console,
            kind="duckdb",
            credentials={"path": str(tmp_path / "x.duckdb")},
        )
    assert refused.value.code == "invalid_kind"
    services.model_create(
        actor=admin,
        name="Events",
        warehouse=console,
        sql="SELECT event_id FROM activation.events",
        primary_key="event_id",
    )
    spare = services.warehouse_create(
        actor=admin, name="Spare", kind="duckdb", credentials={"path": str(tmp_path / "s.duckdb")}
    )
    with pytest.raises(ApplicationError) as to_console:
        services.warehouse_update(actor=admin, warehouse=spare, kind="console")
    assert to_console.value.code == "invalid_kind"

    console.refresh_from_db()
    spare.refresh_from_db()
    assert (console.kind, spare.kind) == ("console", "duckdb")
