"""A warehouse destination: events are loaded in batches from the events themselves (no
deliveries), in Segment's layout, once each, as consent and the suppression list allow;
every load is recorded and shown on the destination's page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.destinations import services
from apps.destinations.models import Delivery, LoadStatus, WarehouseLoad
from apps.destinations.warehouse import loader
from apps.events.pipeline import process_waiting
from apps.syncs.models import Warehouse
from apps.syncs.services import warehouse_create
from martech.common.errors import ApplicationError, PermissionDeniedError

from .conftest import person_with, send


def _pg_warehouse(admin, name="Analytics"):
    return warehouse_create(
        actor=admin,
        name=name,
        kind="postgres",
        dsn="postgresql://loader:hunter2-secret@127.0.0.1:5432/martech_no_such_database",
    )


def _destination(admin, tool, warehouse, **fields):
    defaults = {
        "name": "Event warehouse",
        "adapter": "warehouse",
        "tool": tool,
        "environment": "sandbox",
        "config": {"warehouse": str(warehouse.pk), "schema": "martech_events"},
        "sends": "both",
        "is_enabled": True,
    }
    return services.destination_create(actor=admin, **{**defaults, **fields})


def _track(n, who="visitor-1", event="Order Completed", **properties):
    return {
        "type": "track",
        "event": event,
        "messageId": f"m{n}",
        "anonymousId": who,
        "properties": {"revenue": n, **properties},
    }


def test_a_warehouse_destination_gets_no_deliveries_and_takes_no_test_send(
    client, admin, tool, web
):
    destination = _destination(admin, tool, _pg_warehouse(admin))
    _, raw = web

    send(client, raw, [_track(1), _track(2)])
    assert process_waiting() == 2

    assert not Delivery.objects.filter(destination=destination).exists()
    with pytest.raises(ApplicationError) as refused:
        services.send_test(actor=admin, destination=destination)
    assert refused.value.code == "loaded_not_sent"
    client.force_login(admin)
    answer = client.post(reverse("api:destination-send-test", args=[destination.pk]))
    assert answer.status_code == 400
    assert answer.json()["code"] == "loaded_not_sent"


def test_the_form_offers_each_warehouse_by_name_but_not_the_consoles_own_database(
    client, admin, tool
):
    analytics = _pg_warehouse(admin)
    console = warehouse_create(actor=admin, name="Console", kind="console")
    client.force_login(admin)

    page = client.get(reverse("destinations:destination_create")).content.decode()

    assert f'<option value="{analytics.pk}">Analytics (PostgreSQL)</option>' in page
    assert f'<option value="{console.pk}">' not in page
    with pytest.raises(ApplicationError) as refused:
        _destination(admin, tool, console)
    assert refused.value.code == "invalid_config"


def test_a_failed_load_is_recorded_without_the_password_and_the_next_starts_where_it_began(
    client, admin, tool, web
):
    destination = _destination(admin, tool, _pg_warehouse(admin))
    _, raw = web
    send(client, raw, [_track(1)])
    process_waiting()

    first = loader.load(destination)

    assert first.status == LoadStatus.FAILED
    assert first.error
    assert "hunter2-secret" not in first.error
    assert first.last_event_id == 0
    assert loader.cursor(destination) == 0
    destination.refresh_from_db()
    assert destination.last_error_at is not None
    client.force_login(admin)
    page = client.get(reverse("destinations:destination_detail", args=[destination.pk]))
    assert "hunter2-secret" not in page.content.decode()
    assert "data-load-error" in page.content.decode()


def test_a_destination_has_one_running_load_and_one_its_worker_left_expires(admin, tool):
    destination = _destination(admin, tool, _pg_warehouse(admin))
    running = WarehouseLoad.objects.create(destination=destination)

    assert loader.load(destination) is None
    assert not loader.due(destination)

    WarehouseLoad.objects.filter(pk=running.pk).update(
        started_at=timezone.now() - loader.STALE - dt.timedelta(minutes=1)
    )
    assert loader.due(destination)
    taken = loader.load(destination)
    assert taken is not None
    running.refresh_from_db()
    assert running.status == LoadStatus.FAILED
    assert "next load takes up where it ended" in running.error


def test_a_load_is_due_after_its_interval_or_at_once_after_a_full_one(admin, tool):
    destination = _destination(
        admin,
        tool,
        _pg_warehouse(admin),
        config={"warehouse": str(_pg_warehouse(admin, "Other").pk), "interval_minutes": 30},
    )
    now = timezone.now()
    assert loader.due(destination, now)
    WarehouseLoad.objects.create(
        destination=destination, status=LoadStatus.LOADED, started_at=now, finished_at=now
    )

    assert not loader.due(destination, now + dt.timedelta(minutes=29))
    assert loader.due(destination, now + dt.timedelta(minutes=30))
    WarehouseLoad.objects.create(
        destination=destination,
        status=LoadStatus.LOADED,
        started_at=now,
        finished_at=now,
        events=loader.BATCH * loader.MAX_BATCHES,
    )
    assert loader.due(destination, now + dt.timedelta(minutes=1))


def test_load_now_needs_manage_production_needs_send_production_and_disabled_is_refused(
    client, admin, tool
):
    warehouse = _pg_warehouse(admin)
    sandbox = _destination(admin, tool, warehouse)
    production = _destination(
        admin,
        tool,
        warehouse,
        name="Production warehouse",
        environment="production",
        config={"warehouse": str(warehouse.pk), "schema": "production_events"},
    )
    off = _destination(
        admin,
        tool,
        warehouse,
        name="Off",
        is_enabled=False,
        config={"warehouse": str(warehouse.pk), "schema": "old_events"},
    )
    viewer = person_with(admin, "destinations.view", name="Vera Viewer")
    manager = person_with(admin, "destinations.view", "destinations.manage", name="Max Manager")

    with pytest.raises(PermissionDeniedError):
        services.warehouse_load_now(actor=viewer, destination=sandbox)
    services.warehouse_load_now(actor=manager, destination=sandbox)
    with pytest.raises(PermissionDeniedError) as denied:
        services.warehouse_load_now(actor=manager, destination=production)
    assert "production" in str(denied.value)
    with pytest.raises(ApplicationError) as refused:
        services.warehouse_load_now(actor=admin, destination=off)
    assert refused.value.code == "disabled"

    client.force_login(manager)
    answer = client.post(reverse("destinations:destination_load", args=[sandbox.pk]))
    assert answer.status_code == 302
    assert AuditEvent.objects.filter(action="destinations.destination.load_started").exists()


# -- into a real DuckDB file -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["duck", "pg"])
def test_events_land_in_segments_tables_with_typed_columns_once_even_when_loaded_again(
    client, admin, tool, web, where, request
):
    duck = request.getfixturevalue(where)
    destination = _destination(admin, tool, duck)
    _, raw = web
    identify = {
        "type": "identify",
        "messageId": "i1",
        "anonymousId": "visitor-1",
        "userId": "u-1",
        "traits": {"email": "ana@acme.example", "plan": "pro"},
    }
    page = {
        "type": "page",
        "messageId": "p1",
        "anonymousId": "visitor-1",
        "name": "Pricing",
        "properties": {"path": "/pricing"},
    }
    send(client, raw, [_track(1, orderId="o-1"), page, identify])
    assert process_waiting() == 3

    first = loader.load(destination)

    assert first.status == LoadStatus.LOADED, first.error
    assert (first.events, first.loaded) == (3, 3)
    assert first.rows == {
        "tracks": 1,
        "order_completed": 1,
        "pages": 1,
        "identifies": 1,
        "users": 1,
    }
    assert duck.read(
        "SELECT id, event, event_text, revenue, order_id FROM martech_events.order_completed"
    ) == [("m1", "order_completed", "Order Completed", 1, "o-1")]
    assert duck.read("SELECT name, path FROM martech_events.pages") == [("Pricing", "/pricing")]
    assert duck.read("SELECT id, plan, email FROM martech_events.users") == [
        ("u-1", "pro", "ana@acme.example")
    ]
    types = dict(
        duck.read(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'order_completed'"
        )
    )
    assert types["revenue"].lower() == "bigint"
    assert types["received_at"].lower() == "timestamp with time zone"

    # a load that read the same events again (its record lost) writes none of them twice
    WarehouseLoad.objects.all().delete()
    again = loader.load(destination)
    assert again.status == LoadStatus.LOADED, again.error
    assert again.events == 3
    assert {t: n for t, n in again.rows.items() if t != "users"} == dict.fromkeys(
        ["tracks", "order_completed", "pages", "identifies"], 0
    )
    assert duck.read("SELECT count(*) FROM martech_events.tracks") == [(1,)]
    assert duck.read("SELECT count(*) FROM martech_events.users") == [(1,)]  # rewritten


def test_only_events_whose_consent_allows_the_destination_and_no_erased_person_are_loaded(
    client, admin, tool, web, duck
):
    from apps.consent.services import consent_record
    from apps.erasure.models import Suppression
    from apps.erasure.suppression import digest
    from apps.identity.normalise import Ident

    destination = _destination(admin, tool, duck, purposes=["analytics"])
    for who in ("granted", "erased-later"):
        consent_record(
            subject=Ident("anonymous_id", who),
            purpose="analytics",
            granted=True,
            source="banner",
            jurisdiction="gdpr",
        )
    _, raw = web
    send(client, raw, [_track(1, "granted"), _track(2, "silent"), _track(3, "erased-later")])
    process_waiting()
    Suppression.objects.create(
        value_hash=digest("anonymous_id", "erased-later"), type="anonymous_id"
    )

    load = loader.load(destination)

    assert load.status == LoadStatus.LOADED, load.error
    assert duck.read("SELECT id FROM martech_events.tracks") == [("m1",)]
    assert load.filtered == {"consent": 1, "suppression": 1}
    assert load.last_event_id > 0


def test_a_load_stops_before_an_event_still_waiting_and_the_next_takes_it(
    client, admin, tool, web, duck
):
    destination = _destination(admin, tool, duck)
    _, raw = web
    send(client, raw, [_track(1)])
    process_waiting()
    send(client, raw, [_track(2)])  # accepted, not processed yet

    first = loader.load(destination)
    process_waiting()
    second = loader.load(destination)

    assert (first.events, second.events) == (1, 1)
    assert second.after_event_id == first.last_event_id
    assert duck.read("SELECT id FROM martech_events.tracks ORDER BY id") == [("m1",), ("m2",)]


def test_a_new_property_adds_a_column_a_type_conflict_goes_aside_and_the_page_shows_both(
    client, admin, tool, web, duck
):
    destination = _destination(admin, tool, duck)
    _, raw = web
    send(client, raw, [_track(1, sku=100)])
    process_waiting()
    loader.load(destination)
    send(client, raw, [_track(2, sku="SKU-2", coupon="WINTER")])
    process_waiting()

    load = loader.load(destination)

    assert load.status == LoadStatus.LOADED, load.error
    assert {"table": "order_completed", "column": "coupon", "type": "string"} in load.added
    assert {"table": "order_completed", "column": "sku_string", "type": "string"} in load.added
    assert [(c["column"], c["into"]) for c in load.conflicts] == [("sku", "sku_string")]
    assert duck.read(
        "SELECT id, sku, sku_string, coupon FROM martech_events.order_completed ORDER BY id"
    ) == [("m1", 100, None, None), ("m2", None, "SKU-2", "WINTER")]
    client.force_login(admin)
    page = client.get(reverse("destinations:destination_detail", args=[destination.pk]))
    text = page.content.decode()
    assert "order_completed.coupon" in text
    assert "loaded into <code>sku_string</code>" in text


def test_the_api_lists_a_destinations_loads_and_starts_one(client, admin, tool, web, duck):
    destination = _destination(admin, tool, duck)
    _, raw = web
    send(client, raw, [_track(1)])
    process_waiting()
    loader.load(destination)
    client.force_login(admin)

    listed = client.get(reverse("api:destination-loads", args=[destination.pk]))
    started = client.post(reverse("api:destination-load", args=[destination.pk]))
    destination.is_enabled = False
    destination.save()
    refused = client.post(reverse("api:destination-load", args=[destination.pk]))

    assert listed.status_code == 200
    (load,) = listed.json()["results"]
    assert (load["status"], load["events"], load["rows"]["tracks"]) == ("loaded", 1, 1)
    assert load["lag_seconds"] >= 0
    assert started.status_code == 202
    assert AuditEvent.objects.filter(action="destinations.destination.load_started").count() == 1
    assert refused.status_code == 400
    assert refused.json()["code"] == "disabled"


def test_a_schema_holding_tables_the_console_did_not_create_is_never_changed(
    client, admin, tool, web, duck
):
    duck.write(
        "CREATE SCHEMA finance; CREATE TABLE finance.profiles (account_no VARCHAR, balance INT);"
        "INSERT INTO finance.profiles VALUES ('A-1', 10), ('A-2', 20)"
    )
    destination = _destination(
        admin, tool, duck, config={"warehouse": str(duck.pk), "schema": "finance"}
    )
    _, raw = web
    send(client, raw, [_track(1, event_name="Profiles")])
    process_waiting()

    load = loader.load(destination)

    assert load.status == LoadStatus.FAILED
    assert "did not create" in load.error
    assert duck.read("SELECT * FROM finance.profiles ORDER BY 1") == [("A-1", 10), ("A-2", 20)]
    assert duck.read(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'finance'"
    ) == [(2,)]


def test_two_destinations_never_load_into_one_schema_however_the_warehouse_is_reached(
    client, admin, tool, web, duck
):
    first = _destination(admin, tool, duck)
    with pytest.raises(ApplicationError) as refused:
        _destination(admin, tool, duck, name="Sandbox copy")
    assert refused.value.code == "schema_taken"
    same_file = Warehouse.objects.create(name="Same file", kind="duckdb", dsn_token=duck.dsn_token)
    second = _destination(
        admin, tool, same_file, name="Sandbox copy", config={"warehouse": str(same_file.pk)}
    )
    _, raw = web
    send(client, raw, [_track(1)])
    process_waiting()

    assert loader.load(first).status == LoadStatus.LOADED
    taken = loader.load(second)

    assert taken.status == LoadStatus.FAILED
    assert f"another destination (#{first.pk})" in taken.error
    assert duck.read("SELECT count(*) FROM martech_events.tracks") == [(1,)]


@pytest.mark.django_db(transaction=True)
def test_a_number_beyond_64_bits_loads_into_postgresql_as_a_float_and_holds_up_nothing(
    client, admin, tool, web, pg
):
    destination = _destination(admin, tool, pg)
    _, raw = web
    send(client, raw, [_track(1, quantity=2**63), _track(2, quantity=3)])
    assert process_waiting() == 2

    record = loader.load(destination)

    assert record.status == LoadStatus.LOADED, record.error
    assert record.rows["order_completed"] == 2
    assert sorted(pg.read("SELECT id, quantity FROM martech_events.order_completed")) == [
        ("m1", float(2**63)),
        ("m2", 3.0),
    ]
