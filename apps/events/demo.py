"""Demo sources: the storefront, the iOS app, the orders backend and a sandbox."""

import datetime as dt

from django.utils import timezone

from apps.access.demo import grant_demo_capabilities
from apps.accounts.models import User
from apps.schemas.models import TrackingPlan

from . import services
from .models import Event, Source, WriteKey
from .pipeline import process_waiting

ACCESS = {
    "Marketing Operations": [("events.view", 0), ("events.manage_sources", 90)],
    "Lifecycle Marketing": [("events.view", 30)],
    "Privacy & Compliance": [("events.view", 0)],
    "Growth": [("events.view", 30)],
}
# The sandbox's key is public on purpose, so the demo can be tried with any SDK.
DEMO_SANDBOX_KEY = "wk_demo_sandbox_key_2026"


def load() -> str:
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return "no administrator to act as"
    grant_demo_capabilities(admin, ACCESS)
    if Source.objects.exists():
        return "sources already loaded"
    plans = {p.name: p for p in TrackingPlan.objects.all()}
    for name, kind, env, plan, mode, origins, description in (
        (
            "Web storefront (production)",
            "website",
            "production",
            "Web storefront",
            "flag",
            ["https://www.acme.example", "https://checkout.acme.example"],
            "acme.example through the first-party snippet.",
        ),
        (
            "iOS app",
            "ios",
            "production",
            "iOS app",
            "block",
            [],
            "The shopping app, Segment iOS SDK.",
        ),
        (
            "Orders service",
            "server",
            "production",
            None,
            "allow",
            [],
            "Order Completed from the backend, after payment capture.",
        ),
        (
            "Web storefront (staging)",
            "website",
            "sandbox",
            "Web storefront",
            "allow",
            ["http://localhost:3000", "https://staging.acme.example"],
            "Staging and local development.",
        ),
    ):
        source, _ = services.source_create(
            actor=admin,
            name=name,
            kind=kind,
            environment=env,
            plan=plans.get(plan),
            enforcement=mode,
            allowed_origins=origins,
            description=description,
        )
        if env == "sandbox":
            WriteKey.objects.create(
                source=source,
                prefix=DEMO_SANDBOX_KEY[:9],
                key_hash=services.hash_key(DEMO_SANDBOX_KEY),
                created_by=admin,
            )
    events = _traffic()
    return f"{Source.objects.count()} sources, {events} events (sandbox key {DEMO_SANDBOX_KEY})"


def _traffic() -> int:
    """A morning of traffic, stored as the collection API stores it, then processed."""
    now = timezone.now()
    web = Source.objects.get(name="Web storefront (production)")
    ios = Source.objects.get(name="iOS app")
    backend = Source.objects.get(name="Orders service")
    rows = []

    def add(source, minutes, kind, name="", anon="", user="", gpc=False, **body):
        at = now - dt.timedelta(minutes=minutes)
        payload = {
            "type": kind,
            "messageId": f"demo-{len(rows) + 1:04d}",
            "timestamp": at.isoformat(),
            "receivedAt": at.isoformat(),
            **body,
        }
        if anon:
            payload["anonymousId"] = anon
        if user:
            payload["userId"] = user
        if kind == "track":
            payload["event"] = name
        rows.append(
            Event(
                source=source,
                message_id=payload["messageId"],
                type=kind,
                name=name,
                anonymous_id=anon,
                user_id=user,
                payload=payload,
                timestamp=at,
                received_at=at,
                gpc=gpc,
            )
        )

    campaign = {
        "page": {
            "url": "https://www.acme.example/sale?utm_source=newsletter"
            "&utm_medium=email&utm_campaign=autumn-sale",
            "referrer": "",
        }
    }
    add(
        web,
        95,
        "page",
        "Sale",
        anon="ajs-9d2e71b0",
        context=campaign,
        properties={"path": "/sale", "title": "Autumn sale"},
    )
    add(
        web,
        93,
        "track",
        "Product Viewed",
        anon="ajs-9d2e71b0",
        properties={"product_id": "SKU-88", "price": 79.0, "category": "shoes"},
    )
    add(
        web,
        90,
        "identify",
        anon="ajs-9d2e71b0",
        user="cus_51207",
        traits={"email": "noah.becker@example.de", "plan": "member"},
    )
    add(
        web,
        88,
        "track",
        "Order Completed",
        anon="ajs-9d2e71b0",
        user="cus_51207",
        properties={"order_id": "A-20931", "total": 79.0, "currency": "EUR"},
    )
    add(
        web,
        60,
        "track",
        "Order Completed",
        anon="ajs-0c81aa4f",
        properties={"order_id": "A-20932", "total": "64.90", "currency": "EUR"},
    )
    add(web, 42, "page", "Home", anon="ajs-77b0d1c3", gpc=True, properties={"path": "/"})
    add(
        ios, 30, "track", "Wishlist Added", anon="7f1c2e9a-ios", properties={"product_id": "SKU-12"}
    )
    add(
        ios,
        25,
        "track",
        "Product Viewed",
        anon="7f1c2e9a-ios",
        properties={"product_id": "SKU-12", "price": 129.0},
    )
    add(
        backend,
        87,
        "track",
        "Order Completed",
        user="cus_51207",
        properties={"order_id": "A-20931", "total": 79.0, "currency": "EUR"},
    )
    Event.objects.bulk_create(rows)
    process_waiting()  # routes to the demo destinations too
    from apps.destinations.demo import settle_history

    settle_history()
    return len(rows)
