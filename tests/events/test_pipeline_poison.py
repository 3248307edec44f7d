"""One event never stops the pipeline for the others: rows stored before the collection API
checked shapes and timestamps (a ``context`` that is a list, a timestamp past year 9999, a
message no parser reads, an event name routing cannot compare) fail alone, with their error,
while every other event of their batches is processed and routed."""

import base64
import json

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.consent.defaults import ensure_default_purposes
from apps.destinations import services as destinations
from apps.destinations.models import Delivery
from apps.events import services
from apps.events.models import Event
from apps.events.pipeline import MAX_ATTEMPTS, process_waiting
from apps.tools.services import tool_create
from tests.destinations.vendors import FakeVendor

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a value only PostgreSQL can store"
)


@pytest.fixture(autouse=True)
def purposes(db):
    ensure_default_purposes()


@pytest.fixture
def web(admin):
    return services.source_create(actor=admin, name="Web", rate_limit=10_000)


@pytest.fixture
def vendor():
    with FakeVendor("webhook") as fake:
        yield fake


@pytest.fixture
def hooks(admin, vendor):
    """A webhook destination that takes only ``Viewed`` tracks."""
    tool = tool_create(actor=admin, name="Acme Hooks", vendor="Acme", category="Automation")
    return destinations.destination_create(
        actor=admin,
        name="Hooks",
        adapter="webhook",
        tool=tool,
        environment="sandbox",
        config={"url": vendor.base_url + "/hooks/martech"},
        is_enabled=True,
        credentials=dict(vendor.credentials),
        event_names=["Viewed"],
    )


def _send(client, raw, messages):
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    response = client.post(
        "/v1/batch",
        json.dumps({"batch": messages}),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert response.status_code == 200, response.content


def _good(message_id):
    return {"type": "track", "event": "Viewed", "messageId": message_id, "anonymousId": "a-1"}


def _stored(source, message_id, payload, **fields) -> Event:
    """A row as an earlier collection API could store it (no shape checks)."""
    now = timezone.now()
    values = {
        "type": "track",
        "name": "Viewed",
        "anonymous_id": "a-9",
        "timestamp": now,
        "received_at": now,
        "status": "received",
        **fields,
    }
    return Event.objects.create(source=source, message_id=message_id, payload=payload, **values)


def _rounds_keep_flowing(client, raw, rounds=MAX_ATTEMPTS + 1):
    """Each round sends good events and runs the pipeline: each is processed that round."""
    for n in range(rounds):
        ids = [f"g{n}-{i}" for i in range(3)]
        _send(client, raw, [_good(i) for i in ids])
        process_waiting()
        statuses = set(Event.objects.filter(message_id__in=ids).values_list("status", flat=True))
        assert statuses == {"processed"}, (n, statuses)


def test_an_event_whose_context_is_a_list_fails_alone_and_batches_go_on(
    client, admin_client, admin_api, web, hooks
):
    # given: a row stored before context had to be an object
    source, raw = web
    poison = _stored(
        source,
        "poison",
        {"type": "track", "event": "Viewed", "anonymousId": "a-9", "context": [1, 2]},
    )
    # when: the pipeline runs past the poison's last attempt, good events arriving each time
    _rounds_keep_flowing(client, raw)
    # then: the poison failed alone, with its error, and is filtered for the destination
    poison.refresh_from_db()
    assert (poison.status, poison.attempts) == ("failed", MAX_ATTEMPTS)
    assert "AttributeError" in poison.error
    assert Delivery.objects.get(event_id=poison.pk).reason == "failed"
    assert not Event.objects.filter(status="received").exists()
    assert Delivery.objects.filter(status="pending").count() == 3 * (MAX_ATTEMPTS + 1)
    # and its pages read
    for page in (reverse("events:event_list"), reverse("events:event_detail", args=[poison.pk])):
        assert admin_client.get(page).status_code == 200, page
    assert admin_api.get(f"/api/v1/events/{poison.pk}/").status_code == 200


def test_an_event_routing_cannot_compare_fails_alone_and_its_batch_is_routed(client, web, hooks):
    # given: a track whose stored event name is a list (routing checks it against the
    # destination's event names)
    source, raw = web
    odd = _stored(source, "odd", {"type": "track", "event": ["Viewed"], "anonymousId": "a-9"})
    # when
    _rounds_keep_flowing(client, raw)
    # then: it failed alone, once for every attempt, and every good event has its delivery
    odd.refresh_from_db()
    assert (odd.status, odd.attempts) == ("failed", MAX_ATTEMPTS)
    assert "TypeError" in odd.error
    assert Delivery.objects.get(event_id=odd.pk).reason == "failed"
    good = Event.objects.exclude(pk=odd.pk)
    assert (
        Delivery.objects.filter(event_id__in=good.values("pk"), status="pending").count()
        == good.count()
    )


def test_a_failed_event_past_its_last_attempt_is_shown_on_health_and_can_be_replayed(
    client, admin, admin_client, web, hooks
):
    source, raw = web
    poison = _stored(
        source,
        "poison",
        {"type": "track", "event": "Viewed", "anonymousId": "a-9", "context": [1, 2]},
    )
    _rounds_keep_flowing(client, raw)
    health = admin_client.get(reverse("events:health")).context["health"]
    assert health["failed"] == 1
    assert services.events_replay(actor=admin, events=[poison]) == 1
    poison.refresh_from_db()
    assert (poison.status, poison.attempts) == ("received", 0)


@postgresql_only
def test_a_stored_timestamp_past_year_9999_does_not_stop_the_batch_nor_the_pages(
    client, admin_client, admin_api, web
):
    # given: a row stored as 10000-01-01 13:59:59+00 (sent as 9999-12-31T23:59:59-14:00)
    source, raw = web
    far = _stored(source, "far", {"type": "track", "event": "Viewed", "anonymousId": "a-9"})
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_event SET timestamp = '10000-01-01 13:59:59+00' WHERE id = %s",
            [far.pk],
        )
    _send(client, raw, [_good("g1"), _good("g2")])
    # when
    process_waiting()
    # then: every event is processed, the far one dated by its arrival, and it reads back
    assert set(Event.objects.values_list("status", flat=True)) == {"processed"}
    far = Event.objects.get(pk=far.pk)
    assert far.timestamp == far.received_at
    for page in (reverse("events:event_list"), reverse("events:event_detail", args=[far.pk])):
        assert admin_client.get(page).status_code == 200, page
    for url in ("/api/v1/events/", f"/api/v1/events/{far.pk}/"):
        assert admin_api.get(url).status_code == 200, url


@postgresql_only
def test_a_stored_message_no_parser_reads_fails_alone(client, web):
    # given: a number PostgreSQL keeps but that no double holds
    source, raw = web
    huge = _stored(source, "huge", {"type": "track", "event": "Viewed", "anonymousId": "a-9"})
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_event SET payload = payload || '{\"n\": 1e400}'::jsonb WHERE id = %s",
            [huge.pk],
        )
    _send(client, raw, [_good("g1")])
    # when
    process_waiting()
    # then
    huge.refresh_from_db()
    assert (huge.status, huge.attempts) == ("failed", 1)
    assert "readable" in huge.error
    assert Event.objects.get(message_id="g1").status == "processed"
