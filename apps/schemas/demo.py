"""Demo schema registry: a storefront's events with versions, two plans, and real drift."""

import datetime as dt

from django.utils import timezone

from apps.access.demo import grant_demo_capabilities
from apps.accounts.models import User

from . import services
from .engine.validate import compiled_plan, gate
from .models import EventSchema

ACCESS = {
    "Marketing Operations": [("schemas.view", 0), ("schemas.edit", 30), ("schemas.publish", 180)],
    "Lifecycle Marketing": [("schemas.view", 0)],
    "Privacy & Compliance": [("schemas.view", 0)],
}

S = "https://json-schema.org/draft/2020-12/schema"


def _prop(kind, description, purpose, category="behavioural", personal=False, **extra):
    return {"type": kind, "description": description, **extra}, {
        "purpose": purpose,
        "data_category": category,
        "personal": personal,
    }


EVENTS = {
    "Order Completed": (
        "The checkout finished and payment was captured.",
        "Commerce analytics",
        {
            "order_id": _prop(
                "string", "Order number from the shop.", "order fulfilment", "product", minLength=1
            ),
            "total": _prop(
                "number",
                "Order value after discounts.",
                "revenue reporting",
                "financial",
                minimum=0,
            ),
            "currency": _prop(
                "string",
                "ISO 4217 code.",
                "revenue reporting",
                "financial",
                enum=["EUR", "USD", "GBP"],
            ),
            "products": _prop(
                "array", "Line items.", "analytics", "product", items={"type": "object"}
            ),
        },
        ["order_id", "total", "currency"],
    ),
    "Signed Up": (
        "A visitor created an account.",
        "Growth",
        {
            "method": _prop(
                "string", "How they signed up.", "analytics", enum=["email", "google", "apple"]
            ),
            "email": _prop(
                "string",
                "Address given at sign-up.",
                "account creation (contract)",
                "contact",
                True,
                format="email",
            ),
            "plan": _prop("string", "Plan chosen.", "analytics", "product"),
        },
        ["method"],
    ),
    "Page Viewed": (
        "A page was shown.",
        "Web analytics",
        {
            "path": _prop("string", "URL path.", "analytics"),
            "referrer": _prop("string", "Referring URL.", "attribution"),
            "title": _prop("string", "Page title.", "analytics"),
        },
        ["path"],
    ),
    "Product Viewed": (
        "A product page was shown.",
        "Merchandising",
        {
            "product_id": _prop("string", "SKU.", "personalisation", "product"),
            "price": _prop("number", "Price shown.", "analytics", "financial", minimum=0),
            "category": _prop("string", "Catalogue category.", "personalisation", "product"),
        },
        ["product_id"],
    ),
}


def _schema_doc(props: dict, required: list[str]) -> tuple[dict, dict]:
    return (
        {
            "$schema": S,
            "type": "object",
            "properties": {k: v[0] for k, v in props.items()},
            "required": required,
        },
        {k: v[1] for k, v in props.items()},
    )


def load() -> str:
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return "no administrator to act as"
    grant_demo_capabilities(admin, ACCESS)
    if EventSchema.objects.exists():
        return "schemas already loaded"
    published = {}
    for name, (description, owner, props, required) in EVENTS.items():
        doc, fields = _schema_doc(props, required)
        schema = services.schema_create(
            actor=admin,
            name=name,
            description=description,
            owner=owner,
            json_schema=doc,
            fields=fields,
        )
        draft = schema.versions.get()
        published[name] = services.version_publish(actor=admin, version=draft)

    # Order Completed 1-0-1: an optional coupon (an addition).
    order = EventSchema.objects.get(name="Order Completed")
    draft = services.draft_create(actor=admin, schema=order)
    doc = {**draft.json_schema}
    doc["properties"] = {
        **doc["properties"],
        "coupon": {"type": "string", "description": "Code applied."},
    }
    services.draft_update(
        actor=admin,
        version=draft,
        json_schema=doc,
        notes="Coupons launch.",
        fields={"coupon": {"purpose": "promotion analytics"}},
    )
    published["Order Completed"] = services.version_publish(actor=admin, version=draft)
    # A draft waiting for review: total becomes an integer in cents (breaking).
    draft = services.draft_create(actor=admin, schema=order)
    doc = {**draft.json_schema, "properties": {**draft.json_schema["properties"]}}
    doc["properties"]["total"] = {
        "type": "integer",
        "description": "Order value in cents.",
        "minimum": 0,
    }
    services.draft_update(
        actor=admin,
        version=draft,
        json_schema=doc,
        notes="Money in minor units, as the warehouse stores it.",
    )

    web = services.plan_create(
        actor=admin,
        name="Web storefront",
        description="acme.example and the checkout.",
        versions=list(published.values()),
    )
    services.plan_create(
        actor=admin,
        name="iOS app",
        description="The shopping app (App Store build).",
        versions=[
            published["Order Completed"],
            published["Signed Up"],
            published["Product Viewed"],
        ],
    )

    # Traffic of the last two weeks, through the same gate sources use.
    compiled = compiled_plan(web)
    now = timezone.now()
    traffic = [
        (13, "Order Completed", {"order_id": "A-1001", "total": "59.90", "currency": "EUR"}),
        (11, "Order Completed", {"order_id": "A-1042", "total": 120, "currency": "CHF"}),
        (9, "Signed Up", {"email": "mia.k@example.com"}),
        (8, "Product Viewed", {"product_id": "SKU-88", "price": -5}),
        (6, "Cart Abandoned", {"cart_id": "c-77", "items": 3, "value": 42.5}),
        (5, "Cart Abandoned", {"cart_id": "c-91", "items": 1, "value": 9.99}),
        (4, "Page Viewed", {"path": "/sale", "ab_variant": "B"}),
        (3, "Page Viewed", {"path": "/", "ab_variant": "A"}),
        (
            2,
            "Order Completed",
            {"order_id": "A-1090", "total": 80, "currency": "EUR", "gift_wrap": True},
        ),
        (1, "Wishlist Added", {"product_id": "SKU-12"}),
        (0, "Order Completed", {"order_id": "", "total": 15, "currency": "EUR"}),
    ]
    count = 0
    for days, event, properties in traffic:
        verdict = gate(compiled, "flag", event, properties)
        count += len(
            services.findings_record(
                source="Web storefront (production)",
                event_name=event,
                findings=verdict.findings,
                properties=properties,
                plan=web,
                event_ref=f"demo-{days}-{event[:4].lower()}",
                occurred_at=now - dt.timedelta(days=days, hours=days % 5),
            )
        )
    return f"{EventSchema.objects.count()} event schemas, 2 tracking plans, {count} violations"
