"""Demo consent: banner choices that follow people through merges, a withdrawal, GPC."""

import datetime as dt

from django.utils import timezone

from apps.access.demo import grant_demo_capabilities
from apps.accounts.models import User

from . import services
from .defaults import ensure_default_purposes
from .models import ConsentRecord

ACCESS = {
    "Privacy & Compliance": [
        ("consent.view", 0),
        ("consent.record", 0),
        ("consent.manage_purposes", 0),
    ],
    "Marketing Operations": [("consent.view", 30), ("consent.record", 90)],
}


def load() -> str:
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return "no administrator to act as"
    grant_demo_capabilities(admin, ACCESS)
    ensure_default_purposes()
    if ConsentRecord.objects.exists():
        return "consent already loaded"
    now = timezone.now()

    def record(subject, purpose, granted, days, *, source="banner", jurisdiction="gdpr"):
        services.consent_record(
            subject=subject,
            purpose=purpose,
            granted=granted,
            source=source,
            jurisdiction=jurisdiction,
            notice_version="2026-06",
            evidence={"banner": "v4", "locale": "de-DE" if jurisdiction == "gdpr" else "en-US"},
            occurred_at=now - dt.timedelta(days=days),
            via="demo",
        )

    # The autumn-sale shopper and an iOS visitor accepted analytics on the banner.
    record(("anonymous_id", "ajs-9d2e71b0"), "analytics", True, 1)
    record(("anonymous_id", "7f1c2e9a-ios"), "analytics", True, 1, source="api")
    lena_cookie = ("anonymous_id", "ajs-5f1c9e2a")
    record(lena_cookie, "analytics", True, 40)
    record(lena_cookie, "advertising", False, 40)
    record(("email", "lena.fischer@example.de"), "email_marketing", True, 21, source="form")
    record(("user_id", "cus_48213"), "personalisation", True, 20, source="form")
    record(("user_id", "cus_48213"), "email_marketing", False, 4, source="form")  # withdrew
    carlos = ("email", "carlos.mendes@example.com")
    record(carlos, "email_marketing", True, 30, source="import", jurisdiction="ccpa")
    services.gpc_record(subject=("anonymous_id", "ajs-77b0d1c3"), jurisdiction="ccpa", via="demo")
    return f"{ConsentRecord.objects.count()} consent records"
