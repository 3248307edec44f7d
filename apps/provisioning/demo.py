"""The embedded demo's provisioning: the identity provider's own account (a role holding
``provisioning.provision_people`` and nothing else) and two new hires it provisioned through
SCIM, one of whom it has already deactivated."""

from __future__ import annotations

from django.db import transaction

from apps.access import services as access
from apps.accounts.demo import DEMO_DOMAIN
from apps.accounts.models import User
from apps.accounts.services import user_create
from martech.common import context

from .models import ScimResource
from .provider import CONSOLE, CORE_USER, ENTERPRISE, provider
from .storage import ConsoleStorage

PROVIDER_EMAIL = f"okta.provisioning@{DEMO_DOMAIN}"
ROLE = "Identity provider provisioning"

HIRES = [
    # email's local part, the provider's id, given, family, title, department, start, active
    (
        "nora.lindqvist",
        "00u8f2k1x9ZpQ4",
        "Nora",
        "Lindqvist",
        "Lifecycle Marketer",
        "Lifecycle Marketing",
        "2026-11-16",
        True,
    ),
    (
        "tom.becker",
        "00u8f2k3b7WmT2",
        "Tom",
        "Becker",
        "Paid Media Specialist",
        "Growth",
        "2026-10-05",
        False,
    ),
]


@transaction.atomic
def load() -> str:
    if ScimResource.objects.exists():
        return "provisioning already loaded"
    admin = User.objects.get(email=f"ops.admin@{DEMO_DOMAIN}")
    okta = User.objects.filter(email=PROVIDER_EMAIL).first() or user_create(
        email=PROVIDER_EMAIL, full_name="Okta Provisioning", team="IT", job_title="Service account"
    )
    role = access.role_create(
        actor=admin,
        name=ROLE,
        description="The identity provider's SCIM account: provisions people, nothing else.",
        owner=admin,
    )
    access.role_capability_set(actor=admin, role=role, capability="provisioning.provision_people")
    access.role_assign(actor=admin, user=okta, role=role)
    storage = ConsoleStorage(provider())
    users = next(rt for rt in provider().resource_types if rt.id == "User")
    model = provider().model_for(users)
    with context.acting(user=okta):
        for local, external, given, family, title, department, start, active in HIRES:
            email = f"{local}@{DEMO_DOMAIN}"
            created = storage.create(
                users,
                model.model_validate(
                    {
                        "schemas": [CORE_USER, ENTERPRISE, CONSOLE],
                        "userName": email,
                        "externalId": external,
                        "name": {"givenName": given, "familyName": family},
                        "emails": [{"value": email, "primary": True, "type": "work"}],
                        "title": title,
                        "active": True,
                        ENTERPRISE: {"department": department},
                        CONSOLE: {"startDate": start},
                    }
                ),
            )
            if not active:
                created.active = False
                storage.update(users, created)
    return f"{len(HIRES)} people provisioned by {PROVIDER_EMAIL} (role {ROLE})"
