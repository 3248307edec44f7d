"""Demo destinations: Braze and Meta in production, Amplitude and a data-team webhook in the
sandbox, with the morning's deliveries, a few dead letters and a sandbox capture."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.access.demo import grant_demo_capabilities
from apps.accounts.models import User
from apps.tools.models import Tool

from . import services
from .choices import DeliveryStatus
from .models import Delivery, Destination

ACCESS = {
    "Marketing Operations": [
        ("destinations.view", 0),
        ("destinations.manage", 90),
        ("destinations.replay", 90),
        ("destinations.send_production", 180),
    ],
    "Lifecycle Marketing": [("destinations.view", 30)],
    "Privacy & Compliance": [("destinations.view", 0)],
    "Data Engineering": [("destinations.view", 0)],
}

DESTINATIONS = [
    {
        "name": "Braze (production)",
        "adapter": "braze",
        "tool": "Braze",
        "environment": "production",
        "sends": "both",
        "purposes": ["email_marketing"],
        "event_names": ["Order Completed", "Product Viewed"],
        "mappings": [
            {"from": "traits.email", "to": "email"},
            {"from": "traits.plan", "to": "membership"},
        ],
        "credentials": {"api_key": "demo-braze-rest-key"},
        "description": "Lifecycle email: order confirmations and browse abandonment.",
    },
    {
        "name": "Meta Conversions API",
        "adapter": "meta_capi",
        "tool": "Meta Ads",
        "environment": "production",
        "purposes": ["advertising", "sale_share"],
        "event_names": ["Order Completed"],
        "config": {"pixel_id": "1234567890123", "api_version": "v21.0"},
        "credentials": {"access_token": "demo-meta-token"},
        "description": "Purchases for ad measurement, with hashed email and phone.",
    },
    {
        "name": "Amplitude (sandbox)",
        "adapter": "amplitude",
        "tool": "Amplitude",
        "environment": "sandbox",
        "purposes": ["analytics"],
        "credentials": {"api_key": "demo-amplitude-key", "secret_key": "demo-amplitude-secret"},
        "description": "Product analytics for the staging project.",
    },
    {
        "name": "Data team webhook",
        "adapter": "webhook",
        "tool": "Snowflake",
        "environment": "sandbox",
        "purposes": [],
        "config": {"url": "https://hooks.data.acme.example/martech"},
        "credentials": {"signing_secret": "demo-signing-secret"},
        "description": "Every event, signed, to the data team's loader.",
    },
]


def load() -> str:
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return "no administrator to act as"
    grant_demo_capabilities(admin, ACCESS)
    if Destination.objects.exists():
        return "destinations already loaded"
    tools = {t.name: t for t in Tool.objects.all()}
    for spec in DESTINATIONS:
        tool = tools.get(spec["tool"])
        if tool is None:
            continue
        services.destination_create(actor=admin, **{**spec, "tool": tool, "is_enabled": True})
    webhook = Destination.objects.filter(name="Data team webhook").first()
    if webhook is not None:
        services.send_test(actor=admin, destination=webhook)
    return f"{Destination.objects.count()} destinations"


# One refusal per vendor, in each vendor's own words, for the dead-letter queue.
REFUSALS = {
    "amplitude": '{"code": 400, "error": "Invalid field values on some events", '
    '"events_with_invalid_fields": {"user_id": [0]}}',
    "braze": "{\"message\": \"'external_id' or 'user_alias' is required\"}",
}


def settle_history() -> int:
    """The morning's deliveries as the vendors answered them (the demo cannot reach them):
    delivered, except one refusal per vendor listed in ``REFUSALS``."""
    now = timezone.now()
    pending = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING)
        .select_related("destination")
        .order_by("id")
    )
    for n, row in enumerate(pending):
        row.attempts, row.first_attempt_at = 1, now - dt.timedelta(minutes=20 - n % 15)
        row.last_attempt_at = row.first_attempt_at
        row.status, row.response_code = DeliveryStatus.DELIVERED, 201
        row.delivered_at, row.next_attempt_at = row.last_attempt_at, None
    refused = {row.destination.adapter: row for row in reversed(pending)}
    for adapter, error in REFUSALS.items():
        row = refused.get(adapter)
        if row is not None:
            row.status, row.response_code, row.delivered_at = DeliveryStatus.DEAD, 400, None
            row.error = error
    Delivery.objects.bulk_update(
        pending,
        [
            "attempts",
            "first_attempt_at",
            "last_attempt_at",
            "status",
            "response_code",
            "delivered_at",
            "next_attempt_at",
            "error",
        ],
    )
    return len(pending)


def land_events() -> int:
    """A first load of each enabled warehouse destination, so the demo's warehouse holds the
    event stream from the start (later loads come on the schedule). Events loaded."""
    from .warehouse.loader import load

    loaded = 0
    for destination in Destination.objects.filter(adapter="warehouse", is_enabled=True):
        record = load(destination)
        loaded += record.loaded if record is not None else 0
    return loaded
