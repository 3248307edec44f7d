"""The embedded demo shows reverse ETL working: a held first run into production after a
real dry run, and a sandbox sync with its history."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.syncs.models import RunStatus, Sync


@pytest.mark.django_db(transaction=True)
def test_the_demo_holds_the_production_sync_and_shows_the_sandbox_history(client):
    call_command("load_demo")
    braze = Sync.objects.get(name="Customers to Braze")
    held = braze.runs.get()
    assert held.status == RunStatus.NEEDS_APPROVAL
    assert held.approval_reason == "it is the sync's first run"
    assert held.total >= 1
    mirror = Sync.objects.get(name="Known emails to the data team")
    dry = mirror.runs.get(dry_run=True)
    assert dry.status == RunStatus.PLANNED
    # the week of runs was acknowledged: the dry run finds nothing new
    assert dry.planned["unchanged"] == dry.total > 0
    assert dry.planned["added"] == dry.planned["changed"] == 0
    assert mirror.rows.filter(fingerprint__isnull=False).count() == dry.total
    assert mirror.runs.filter(dry_run=False, status=RunStatus.SUCCEEDED).count() == 5
    # runs are numbered per sync in the order they happened, the dry run last
    numbered = list(mirror.runs.order_by("created_at").values_list("number", flat=True))
    assert numbered == list(range(1, 8))
    assert dry.number == 7
    assert held.number == 1
    assert mirror.is_paused
    client.force_login(braze.created_by)
    page = client.get(reverse("syncs:run_detail", args=[held.pk]))
    assert b"This run waits for approval" in page.content
    detail = client.get(reverse("syncs:sync_detail", args=[mirror.pk]))
    assert b'data-chart="sync-chart-data"' in detail.content
    listed = detail.content.decode()
    assert listed.index(">#7</a>") < listed.index(">#6</a>") < listed.index(">#1</a>")
    dry_page = client.get(reverse("syncs:run_detail", args=[dry.pk])).content.decode()
    assert "Dry run #7" in dry_page


@pytest.mark.django_db(transaction=True)
def test_the_demo_lakehouse_has_customer_models_and_the_event_stream_landed_in_it(client):
    import duckdb
    from django.conf import settings

    from apps.destinations.models import Destination, LoadStatus
    from apps.syncs.models import SqlModel, Warehouse
    from apps.syncs.services import warehouse_test

    call_command("load_demo")

    lakehouse = Warehouse.objects.get(name="Analytics lakehouse")
    assert lakehouse.kind == "duckdb"
    assert warehouse_test(actor=lakehouse.created_by, warehouse=lakehouse)[0] is True
    churn = SqlModel.objects.get(name="Churn risk")
    client.force_login(lakehouse.created_by)
    page = client.get(reverse("syncs:model_detail", args=[churn.pk])).content.decode()
    assert "churn_risk" in page
    assert "high" in page or "medium" in page or "low" in page
    stream = Destination.objects.get(name="Lakehouse event stream")
    load = stream.loads.get()
    assert load.status == LoadStatus.LOADED, load.error
    assert load.loaded > 0
    path = settings.VAR_DIR / "warehouses" / "lakehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'martech_events'"
            ).fetchall()
        }
        landed = connection.execute("SELECT count(*) FROM martech_events.pages").fetchone()[0]
        customers = connection.execute("SELECT count(*) FROM analytics.customers").fetchone()[0]
    assert {"tracks", "pages", "identifies", "users"} <= tables, load.filtered
    assert landed > 0
    assert customers == 240
    detail = client.get(reverse("destinations:destination_detail", args=[stream.pk]))
    assert b"data-load-status" in detail.content
