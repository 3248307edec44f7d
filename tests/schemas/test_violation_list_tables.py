"""The violations list: sources chosen from a list like on events, days from a calendar,
columns sortable."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.events import services
from apps.schemas.models import Violation

pytestmark = pytest.mark.django_db


@pytest.fixture
def violations(admin):
    services.source_create(actor=admin, name="Web", rate_limit=1000)
    services.source_create(actor=admin, name="App", rate_limit=1000)
    now = timezone.now()
    specs = [
        ("Web", "Order Completed", "wrong_type", now - dt.timedelta(days=3)),
        ("App", "Cart Viewed", "unplanned_event", now - dt.timedelta(days=1)),
        ("Web", "Product Added", "missing_required", now),
    ]
    return [
        Violation.objects.create(source=source, event_name=name, kind=kind, occurred_at=at)
        for source, name, kind, at in specs
    ]


def _names(response):
    assert response.status_code == 200
    return [v.event_name for v in response.context["object_list"]]


def test_the_violation_source_is_a_list_of_sources(admin_client, violations):
    html = admin_client.get(reverse("schemas:violations")).text
    assert '<select name="source"' in html
    assert '<option value="App">App</option>' in html
    assert 'type="date" name="since"' in html
    response = admin_client.get(reverse("schemas:violations"), {"source": "Web", "sort": "event"})
    assert _names(response) == ["Order Completed", "Product Added"]
    assert '<option value="Web" selected>Web</option>' in response.text


def test_violations_filter_by_a_range_of_days(admin_client, violations):
    day = timezone.localdate(violations[1].occurred_at)
    response = admin_client.get(
        reverse("schemas:violations"),
        {"since": day.isoformat(), "until": (day + dt.timedelta(days=1)).isoformat()},
    )
    assert _names(response) == ["Cart Viewed"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("when", ["Order Completed", "Cart Viewed", "Product Added"]),
        ("-when", ["Product Added", "Cart Viewed", "Order Completed"]),
        ("kind", ["Product Added", "Cart Viewed", "Order Completed"]),
        ("-kind", ["Order Completed", "Cart Viewed", "Product Added"]),
        ("source", ["Cart Viewed", "Order Completed", "Product Added"]),
        ("-source", ["Product Added", "Order Completed", "Cart Viewed"]),
    ],
)
def test_violations_sort_by_their_columns(admin_client, violations, sort, expected):
    assert _names(admin_client.get(reverse("schemas:violations"), {"sort": sort})) == expected
