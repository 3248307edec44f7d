"""Erasure fixtures: people who log, verify and approve, a graph about a person, and
destinations at loopback vendors."""

from __future__ import annotations

import pytest

from apps.consent.defaults import ensure_default_purposes
from apps.destinations import services as destinations
from apps.erasure import services
from apps.identity.services import link_record
from apps.tools.services import tool_create
from tests import factories


@pytest.fixture(autouse=True)
def purposes(db):
    ensure_default_purposes()


def person_with(admin, *codes, tenure_days=400, name="Pat Privacy"):
    return factories.person_with(admin, *codes, tenure_days=tenure_days, name=name)


@pytest.fixture
def ana(db):
    """Ana: signed in as cus_1 with two devices and an email; a probabilistic match."""
    for anon in ("ajs-ana-phone", "ajs-ana-laptop"):
        link_record(a=("user_id", "cus_1"), b=("anonymous_id", anon), rule="identify")
    link_record(a=("user_id", "cus_1"), b=("email", "ana@acme.example"), rule="identify")
    link_record(
        a=("anonymous_id", "ajs-ana-laptop"),
        b=("anonymous_id", "ajs-shared-tablet"),
        rule="ip_user_agent",
        kind="probabilistic",
        confidence=0.7,
    )
    link_record(a=("user_id", "cus_2"), b=("email", "bo@acme.example"), rule="identify")
    return {
        "user_id:cus_1",
        "anonymous_id:ajs-ana-phone",
        "anonymous_id:ajs-ana-laptop",
        "email:ana@acme.example",
    }


def verified(admin, identifier="email:ana@acme.example", **fields):
    request = services.request_create(
        actor=admin,
        identifier=identifier,
        channel=fields.pop("channel", "email"),
        jurisdiction=fields.pop("jurisdiction", "gdpr"),
        **fields,
    )
    return services.request_verify(actor=admin, request=request, note="Replied from the address")


@pytest.fixture
def tool(admin):
    return tool_create(actor=admin, name="Hooks", vendor="Acme", category="Automation")


def destination_at(admin, tool, vendor, **fields):
    if vendor.kind == "webhook":
        base = {
            "adapter": "webhook",
            "config": {
                "url": vendor.base_url + "/hooks/martech",
                "deletion_url": vendor.base_url + "/hooks/martech/erasure",
            },
        }
    else:
        base = {"adapter": vendor.kind, "base_url": vendor.base_url}
    defaults = {
        "name": f"{vendor.kind} sink",
        "tool": tool,
        "environment": "sandbox",
        "is_enabled": True,
        "credentials": dict(vendor.credentials),
        **base,
    }
    return destinations.destination_create(actor=admin, **{**defaults, **fields})
