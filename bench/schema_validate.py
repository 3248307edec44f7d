"""Validating events through the schema registry, against the ``jsonschema`` library's
precompiled validator on the same schemas and the same events, in the same run.

The registry path is what the pipeline calls for each event: the tracking plan compiled once
and cached (``compiled_plan``), then ``gate`` (planned event? unplanned properties? the
compiled draft 2020-12 validator, and the violations walked only when the event is invalid).
The baseline looks up a ``jsonschema.Draft202012Validator`` built once per event and lists
its errors. The workload: ``BENCH_SCHEMA_EVENTS`` events (default 50,000) of five storefront
events, nested line items included; about one in six breaks its schema.

Target: at least 15x the baseline's events per second.
"""

from __future__ import annotations

import random
import statistics
import time

from bench._setup import setup, size

N = size("BENCH_SCHEMA_EVENTS", 50000, quick=5000)
ROUNDS = size("BENCH_SCHEMA_ROUNDS", 5, quick=2)
S = "https://json-schema.org/draft/2020-12/schema"
PLAN = "Bench storefront"
ITEM = {
    "type": "object",
    "properties": {
        "sku": {"type": "string", "minLength": 1},
        "quantity": {"type": "integer", "minimum": 1},
        "price": {"type": "number", "minimum": 0},
    },
    "required": ["sku", "quantity"],
}
SCHEMAS = {
    "Order Completed": {
        "order_id": ({"type": "string", "minLength": 1}, True),
        "total": ({"type": "number", "minimum": 0}, True),
        "currency": ({"type": "string", "enum": ["EUR", "USD", "GBP"]}, True),
        "coupon": ({"type": "string", "maxLength": 32}, False),
        "products": ({"type": "array", "items": ITEM, "maxItems": 100}, False),
    },
    "Product Viewed": {
        "product_id": ({"type": "string"}, True),
        "price": ({"type": "number", "minimum": 0}, False),
        "category": ({"type": "string"}, False),
    },
    "Signed Up": {
        "method": ({"type": "string", "enum": ["email", "google", "apple"]}, True),
        "plan": ({"type": "string"}, False),
    },
    "Page Viewed": {
        "path": ({"type": "string", "pattern": "^/"}, True),
        "title": ({"type": "string"}, False),
        "referrer": ({"type": ["string", "null"]}, False),
    },
    "Checkout Started": {
        "cart_id": ({"type": "string"}, True),
        "value": ({"type": "number"}, True),
        "items": ({"type": "integer", "minimum": 0}, False),
    },
}


def _document(props: dict) -> dict:
    return {
        "$schema": S,
        "type": "object",
        "properties": {name: node for name, (node, _) in props.items()},
        "required": [name for name, (_, required) in props.items() if required],
    }


def _events(n: int, seed: int = 11) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.35:
            items = [
                {
                    "sku": f"SKU-{rng.randint(1, 999)}",
                    "quantity": rng.randint(1, 3),
                    "price": round(rng.uniform(1, 90), 2),
                }
                for _ in range(rng.randint(1, 4))
            ]
            props = {
                "order_id": f"A-{i}",
                "total": round(sum(p["price"] for p in items), 2),
                "currency": "EUR",
                "products": items,
            }
            event = "Order Completed"
        elif roll < 0.6:
            event, props = (
                "Product Viewed",
                {"product_id": f"SKU-{i % 999}", "price": 19.9, "category": "shoes"},
            )
        elif roll < 0.8:
            event, props = "Page Viewed", {"path": f"/p/{i}", "title": "Shop", "referrer": None}
        elif roll < 0.9:
            event, props = "Signed Up", {"method": "email", "plan": "free"}
        else:
            event, props = "Checkout Started", {"cart_id": f"c-{i}", "value": 12.5, "items": 2}
        bad = rng.random()
        if bad < 0.05:
            props = {**props, "debug_flag": True}  # unplanned property
        elif bad < 0.10:
            key = ("order_id", "product_id", "path", "method", "cart_id")
            props = {k: v for k, v in props.items() if k not in key}  # a required one missing
        elif bad < 0.14:
            props = {**props, "price": "19.90"} if event == "Product Viewed" else props
        elif bad < 0.17:
            event = "Wishlist Added"  # unplanned event
        out.append((event, props))
    return out


def _plan():
    from apps.accounts.models import User
    from apps.schemas import services

    _clean()
    actor = User.objects.filter(email="bench@martech.example").first()
    if actor is None:
        actor = User.objects.create_superuser(
            email="bench@martech.example", password=None, full_name="Bench"
        )
    versions = []
    for name, props in SCHEMAS.items():
        schema = services.schema_create(
            actor=actor,
            name=name,
            json_schema=_document(props),
            fields={p: {"purpose": "analytics"} for p in props},
        )
        versions.append(services.version_publish(actor=actor, version=schema.versions.get()))
    return services.plan_create(actor=actor, name=PLAN, versions=versions)


def _clean() -> None:
    """Take away the benchmark's plan and schemas (and those alone: other benchmarks' plans
    may be followed by their sources)."""
    from apps.schemas.models import EventSchema, TrackingPlan

    TrackingPlan.objects.filter(name=PLAN).delete()
    EventSchema.objects.filter(name__in=SCHEMAS).delete()


def _registry(plan, events) -> tuple[float, int]:
    from apps.schemas.engine.validate import compiled_plan, forget, gate

    forget(plan.pk)
    started = time.perf_counter()
    violations = 0
    for name, props in events:
        compiled = compiled_plan(plan)  # cached after the first event
        violations += len(gate(compiled, "flag", name, props).findings)
    return time.perf_counter() - started, violations


def _jsonschema(validators, events) -> tuple[float, int]:
    started = time.perf_counter()
    violations = 0
    for name, props in events:
        validator = validators.get(name)
        if validator is None:
            violations += 1
            continue
        violations += len(list(validator.iter_errors(props)))
    return time.perf_counter() - started, violations


def main() -> None:
    setup()
    import jsonschema

    plan = _plan()
    events = _events(N)
    validators = {}
    for name, props in SCHEMAS.items():
        document = _document(props)
        jsonschema.Draft202012Validator.check_schema(document)
        validators[name] = jsonschema.Draft202012Validator(document)
    ours, theirs, found = [], [], (0, 0)
    for _ in range(ROUNDS):
        elapsed, ours_found = _registry(plan, events)
        ours.append(elapsed)
        elapsed, their_found = _jsonschema(validators, events)
        theirs.append(elapsed)
        found = (ours_found, their_found)
    _clean()
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"schema validate: {N:,} events x {ROUNDS} rounds, medians (events/s)")
    print(f"  jsonschema, precompiled     {N / b:12,.0f}")
    print(
        f"  registry (gate)             {N / a:12,.0f}  = {b / a:.1f}x jsonschema "
        "(target: at least 15x)"
    )
    print(
        f"  violations found: registry {found[0]:,}, jsonschema {found[1]:,} "
        "(the registry also reports unplanned properties)"
    )


if __name__ == "__main__":
    main()
