"""Demo sources: the storefront, the iOS app, the orders backend and a sandbox."""

from apps.accounts.demo import grant_demo_capabilities
from apps.accounts.models import User
from apps.schemas.models import TrackingPlan

from . import services
from .models import Source, WriteKey

ACCESS = {
    "Marketing Operations": [("events.view", 0), ("events.manage_sources", 90)],
    "Lifecycle Marketing": [("events.view", 30)],
    "Privacy & Compliance": [("events.view", 0)],
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
        ("Web storefront (production)", "website", "production", "Web storefront", "flag",
         ["https://www.acme.example", "https://checkout.acme.example"],
         "acme.example through the first-party snippet."),
        ("iOS app", "ios", "production", "iOS app", "block", [],
         "The shopping app, Segment iOS SDK."),
        ("Orders service", "server", "production", None, "allow", [],
         "Order Completed from the backend, after payment capture."),
        ("Web storefront (staging)", "website", "sandbox", "Web storefront", "allow",
         ["http://localhost:3000", "https://staging.acme.example"],
         "Staging and local development."),
    ):  # fmt: skip
        source, _ = services.source_create(
            actor=admin, name=name, kind=kind, environment=env, plan=plans.get(plan),
            enforcement=mode, allowed_origins=origins, description=description,
        )  # fmt: skip
        if env == "sandbox":
            WriteKey.objects.create(
                source=source,
                prefix=DEMO_SANDBOX_KEY[:9],
                key_hash=services.hash_key(DEMO_SANDBOX_KEY),
                created_by=admin,
            )
    return f"{Source.objects.count()} sources (sandbox write key {DEMO_SANDBOX_KEY})"
