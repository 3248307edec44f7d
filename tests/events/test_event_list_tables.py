"""The event list sorts by its columns and filters by a range of days."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.events import services
from apps.events.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(admin):
    """Three events from two sources, a day apart, each with another name and status."""
    web, _ = services.source_create(actor=admin, name="Web", rate_limit=1000)
    app, _ = services.source_create(actor=admin, name="App", rate_limit=1000)
    now = timezone.now()
    specs = [
        (web, "m1", "Order Completed", "processed", now - dt.timedelta(days=2)),
        (app, "m2", "Cart Viewed", "flagged", now - dt.timedelta(days=1)),
        (web, "m3", "Product Added", "received", now),
    ]
    return [
        Event.objects.create(
            source=source,
            message_id=message_id,
            type="track",
            name=name,
            anonymous_id="a-1",
            payload={},
            status=status,
            timestamp=at,
            received_at=at,
        )
        for source, message_id, name, status, at in specs
    ]


def _names(response):
    assert response.status_code == 200
    return [event.name for event in response.context["object_list"]]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("received", ["Order Completed", "Cart Viewed", "Product Added"]),
        ("-received", ["Product Added", "Cart Viewed", "Order Completed"]),
        ("call", ["Cart Viewed", "Order Completed", "Product Added"]),
        ("-call", ["Product Added", "Order Completed", "Cart Viewed"]),
        ("status", ["Cart Viewed", "Order Completed", "Product Added"]),
        ("-status", ["Product Added", "Order Completed", "Cart Viewed"]),
        ("source", ["Cart Viewed", "Order Completed", "Product Added"]),
        ("-source", ["Product Added", "Order Completed", "Cart Viewed"]),
    ],
)
def test_events_sort_by_each_column_both_ways(admin_client, events, sort, expected):
    assert _names(admin_client.get(reverse("events:event_list"), {"sort": sort})) == expected


def test_events_with_an_unknown_sort_key_are_newest_first(admin_client, events):
    response = admin_client.get(reverse("events:event_list"), {"sort": "payload"})
    assert _names(response) == ["Product Added", "Cart Viewed", "Order Completed"]


def test_events_filter_by_a_range_of_days(admin_client, events):
    day = timezone.localdate(events[1].received_at)
    response = admin_client.get(
        reverse("events:event_list"),
        {"received_after": day.isoformat(), "received_before": (day + dt.timedelta(days=1))},
    )
    assert _names(response) == ["Cart Viewed"]
    assert 'type="date" name="received_before"' in response.text
