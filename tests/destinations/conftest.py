import base64
import json

import pytest

from apps.consent.defaults import ensure_default_purposes
from apps.destinations import services
from apps.events import services as events
from apps.tools.services import tool_create
from tests import factories


@pytest.fixture(autouse=True)
def purposes(db):
    ensure_default_purposes()


@pytest.fixture
def tool(admin):
    return tool_create(actor=admin, name="Acme Hooks", vendor="Acme", category="Automation")


@pytest.fixture
def web(admin):
    return events.source_create(actor=admin, name="Web", rate_limit=10_000)


def send(client, raw, messages, **headers):
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    response = client.post(
        "/v1/batch",
        json.dumps({"batch": messages}),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
        **headers,
    )
    assert response.status_code == 200, response.content
    return response


def person_with(admin, *codes, tenure_days=200, name="Dana Delivery"):
    """Someone whose role grants ``codes``; send_production needs 90 days of tenure."""
    return factories.person_with(
        admin,
        *codes,
        tenure_days=tenure_days,
        name=name,
        tenures={"destinations.send_production": 90},
    )


def hook(admin, tool, vendor, **fields):
    """A webhook destination pointed at a loopback vendor."""
    defaults = {
        "name": "Hooks",
        "adapter": "webhook",
        "tool": tool,
        "environment": "sandbox",
        "config": {"url": vendor.base_url + "/hooks/martech"},
        "is_enabled": True,
        "credentials": dict(vendor.credentials),
    }
    return services.destination_create(actor=admin, **{**defaults, **fields})
