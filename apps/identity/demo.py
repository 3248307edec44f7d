"""Demo identity graph: known customers, a visitor waiting for review, a shared family
device held back as a conflict, and a merge that was undone."""

import datetime as dt

from django.utils import timezone

from apps.access.demo import grant_demo_capabilities
from apps.accounts.models import User

from . import services
from .models import Merge, Profile

ACCESS = {
    "Privacy & Compliance": [("identity.view", 0), ("identity.manage", 0)],
    "Marketing Operations": [("identity.view", 30), ("identity.manage", 180)],
    "Team Lead": [("identity.view", 180)],
}


def load() -> str:
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return "no administrator to act as"
    grant_demo_capabilities(admin, ACCESS)
    if Profile.objects.exists():
        return "profiles already loaded"
    now = timezone.now()

    def ago(days, hours=0):
        return now - dt.timedelta(days=days, hours=hours)

    link = services.link_record
    # Lena: anonymous on the blog, then a webinar form, then she signs up.
    # (Touches as the pipeline records them: a channel, and the ad network of a click id.)
    services.touch_record(
        ("anonymous_id", "ajs-5f1c9e2a"),
        {
            "channel": "paid",
            "source": "linkedin",
            "medium": "paid_social",
            "campaign": "q3-cdp-guide",
            "click_id_type": "li_fat_id",
            "network": "linkedin",
            "marketing": True,
        },
        at=ago(40),
    )
    link(
        a=("anonymous_id", "ajs-5f1c9e2a"),
        b=("email", "lena.fischer@example.de"),
        rule="same_event",
        source="Website",
        event_ref="msg-webinar-form",
        observed_at=ago(21),
    )
    link(
        a=("email", "lena.fischer@example.de"),
        b=("user_id", "cus_48213"),
        rule="login",
        source="Web app",
        observed_at=ago(20),
    )
    link(
        a=("user_id", "cus_48213"),
        b=("device_id", "6d92078a-8246-4ba4-ae5b-76104861e7dc"),
        rule="identify",
        source="iOS app",
        observed_at=ago(12),
    )
    services.touch_record(
        ("user_id", "cus_48213"),
        {
            "channel": "paid",
            "source": "google",
            "medium": "cpc",
            "campaign": "brand",
            "click_id_type": "gclid",
            "network": "google_ads",
            "marketing": True,
        },
        at=ago(2),
    )
    # Carlos: a Californian on the phone and by email.
    link(
        a=("email", "carlos.mendes@example.com"),
        b=("phone", "+1 415 555 0182"),
        rule="identify",
        source="Salesforce import",
        observed_at=ago(30),
    )
    link(
        a=("anonymous_id", "ajs-77b0d1c3"),
        b=("email", "carlos.mendes@example.com"),
        rule="identify",
        source="Website",
        observed_at=ago(29),
    )
    # A visitor who looks like Lena (same office IP and browser within minutes).
    link(
        a=("anonymous_id", "ajs-5f1c9e2a"),
        b=("anonymous_id", "ajs-c4410e8d"),
        rule="ip_user_agent",
        kind="probabilistic",
        confidence=0.74,
        source="Website",
        observed_at=ago(3),
    )
    # A family tablet used by two customers: the second user id is a conflict, not a merge.
    link(
        a=("device_id", "b71f3c2e-0a8d-4c55-9a31-5e2f7d9c1a04"),
        b=("user_id", "cus_51007"),
        rule="login",
        source="Android app",
        observed_at=ago(9),
    )
    link(
        a=("device_id", "b71f3c2e-0a8d-4c55-9a31-5e2f7d9c1a04"),
        b=("user_id", "cus_51008"),
        rule="login",
        source="Android app",
        observed_at=ago(8),
    )
    # A merge a privacy officer undid: a shared demo account at a trade show.
    link(
        a=("anonymous_id", "ajs-0e9d2b71"),
        b=("email", "booth-visitor@example.org"),
        rule="same_event",
        source="Trade show scanner",
        observed_at=ago(15),
    )
    fatima = User.objects.filter(email__startswith="fatima.haddad@").first() or admin
    merge = Merge.objects.filter(identifiers=["email:booth-visitor@example.org"]).first()
    if merge:
        services.merge_undo(actor=fatima, merge=merge)
    return f"{Profile.objects.filter(identifiers__isnull=False).distinct().count()} profiles"
