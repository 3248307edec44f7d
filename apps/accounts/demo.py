"""Demo people: a marketing organisation with managers, new hires and a departed colleague."""

import datetime as dt

from django.utils import timezone

from .models import User
from .services import api_token_create, user_create, user_set_active

DEMO_DOMAIN = "acme.example"
DEMO_ADMIN_EMAIL = f"ops.admin@{DEMO_DOMAIN}"
DEMO_PASSWORD = "martech-demo-2026"  # noqa: S105 (documented demo login, embedded mode only)

# email local part, name, team, title, manager local part, days since start, superuser, active
PEOPLE = [
    (
        "ops.admin",
        "Priya Raman",
        "Marketing Operations",
        "Director of Marketing Operations",
        None,
        1460,
        True,
        True,
    ),
    (
        "dana.whitfield",
        "Dana Whitfield",
        "Marketing Operations",
        "Marketing Operations Manager",
        "ops.admin",
        820,
        False,
        True,
    ),
    (
        "leo.martins",
        "Leo Martins",
        "Marketing Operations",
        "Marketing Technologist",
        "dana.whitfield",
        410,
        False,
        True,
    ),
    (
        "sam.okafor",
        "Sam Okafor",
        "Lifecycle Marketing",
        "Lifecycle Marketing Lead",
        "ops.admin",
        690,
        False,
        True,
    ),
    (
        "mei.tanaka",
        "Mei Tanaka",
        "Lifecycle Marketing",
        "Lifecycle Marketer",
        "sam.okafor",
        120,
        False,
        True,
    ),
    (
        "jonas.berg",
        "Jonas Berg",
        "Lifecycle Marketing",
        "Email Marketing Associate",
        "sam.okafor",
        12,
        False,
        True,
    ),
    ("ana.costa", "Ana Costa", "Growth", "Head of Growth", "ops.admin", 950, False, True),
    ("ravi.patel", "Ravi Patel", "Growth", "Paid Media Manager", "ana.costa", 300, False, True),
    ("chloe.dubois", "Chloé Dubois", "Growth", "Growth Analyst", "ana.costa", 45, False, True),
    ("marcus.lee", "Marcus Lee", "Data Engineering", "Analytics Engineer", None, 530, False, True),
    (
        "fatima.haddad",
        "Fatima Haddad",
        "Privacy & Legal",
        "Privacy Officer",
        None,
        1100,
        False,
        True,
    ),
    (
        "tom.reilly",
        "Tom Reilly",
        "Brand",
        "Brand Marketing Manager",
        "ops.admin",
        760,
        False,
        False,
    ),
]


def load() -> str:
    today = timezone.localdate()
    created = 0
    by_local = {}
    for local, name, team, title, manager, days, superuser, active in PEOPLE:
        email = f"{local}@{DEMO_DOMAIN}"
        person = User.objects.filter(email=email).first()
        if person is None:
            person = user_create(
                email=email,
                full_name=name,
                team=team,
                job_title=title,
                manager=by_local.get(manager),
                start_date=today - dt.timedelta(days=days),
                password=DEMO_PASSWORD,
                is_superuser=superuser,
            )
            if not active:
                user_set_active(user=person, active=False)
            created += 1
        by_local[local] = person
    admin = by_local["ops.admin"]
    if not admin.api_tokens.exists():
        api_token_create(user=admin, name="Looker audit export", days=60)
    return f"{len(PEOPLE)} people ({created} new); sign in as {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}"
