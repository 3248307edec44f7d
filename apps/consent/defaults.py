"""The purposes every installation starts with; admins edit them and add their own."""

# code, name, legal basis, default under GDPR, CCPA, elsewhere, description
PURPOSES = [
    (
        "necessary",
        "Strictly necessary",
        "contract",
        True,
        True,
        True,
        "Running the service the person asked for: sign-in, security, the shopping cart.",
    ),
    (
        "analytics",
        "Analytics",
        "consent",
        False,
        True,
        False,
        "Measuring how the website and app are used, to improve them.",
    ),
    (
        "email_marketing",
        "Email marketing",
        "consent",
        False,
        True,
        False,
        "Newsletters, lifecycle and promotional email.",
    ),
    (
        "advertising",
        "Advertising",
        "consent",
        False,
        True,
        False,
        "Sending conversions and audiences to ad networks; retargeting.",
    ),
    (
        "personalisation",
        "Personalisation",
        "consent",
        False,
        True,
        False,
        "Tailoring content and offers to the person's behaviour.",
    ),
    (
        "sale_share",
        "Sale or sharing of personal data",
        "consent",
        False,
        True,
        False,
        "Selling or sharing personal data for cross-context behavioural advertising (CCPA); "
        "a Global Privacy Control signal opts out of it.",
    ),
]


def ensure_default_purposes() -> int:
    """Create any missing default purpose (existing ones are left as admins set them)."""
    from .models import Purpose

    created = 0
    for position, (code, name, basis, gdpr, ccpa, other, description) in enumerate(PURPOSES):
        _, new = Purpose.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "legal_basis": basis,
                "default_gdpr": gdpr,
                "default_ccpa": ccpa,
                "default_other": other,
                "description": description,
                "position": position * 10,
            },
        )
        created += new
    return created
