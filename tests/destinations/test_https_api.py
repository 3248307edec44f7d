"""A destination's endpoints receive personal data, so they are https://: the API refuses a
plain http:// address with the same rule as the form (one check in the services), except an
internal address or a name the operator allows for plain connections."""

import pytest

from apps.destinations import services
from apps.destinations.models import Destination
from martech.common.errors import ApplicationError

from .conftest import hook
from .vendors import FakeVendor

API = "/api/v1/destinations/"


@pytest.mark.parametrize("environment", ["production", "sandbox"])
def test_the_api_refuses_an_http_webhook_url_with_https_required(admin_client, tool, environment):
    # when
    response = admin_client.post(
        API,
        {
            "name": "Orders hook",
            "adapter": "webhook",
            "tool": tool.pk,
            "environment": environment,
            "config": {"url": "http://hooks.acme.example/in"},
        },
        content_type="application/json",
    )

    # then
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "https_required"
    assert body["details"]["field"] == "config.url"
    assert body["message"].startswith("config.url: use an https:// address")
    assert not Destination.objects.exists()


def test_the_api_refuses_an_http_api_origin(admin_client, tool):
    response = admin_client.post(
        API,
        {
            "name": "Braze",
            "adapter": "braze",
            "tool": tool.pk,
            "environment": "production",
            "base_url": "http://rest.iad-01.braze.example",
        },
        content_type="application/json",
    )

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "https_required"
    assert response.json()["details"]["field"] == "base_url"


def test_changing_a_production_destination_to_http_is_refused_and_changes_nothing(
    admin_client, admin, tool
):
    # given
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor, environment="production")
    before = dict(destination.config)

    # when
    response = admin_client.patch(
        f"{API}{destination.pk}/",
        {"config": {"url": "http://hooks.acme.example/in"}},
        content_type="application/json",
    )

    # then
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "https_required"
    destination.refresh_from_db()
    assert destination.config == before


def test_the_services_refuse_it_for_every_caller(admin, tool):
    with pytest.raises(ApplicationError) as refused:
        services.destination_create(
            actor=admin,
            name="Partner",
            adapter="webhook",
            tool=tool,
            environment="production",
            config={"url": "http://hooks.partner.example/martech"},
        )

    assert refused.value.code == "https_required"


def test_https_and_a_name_the_operator_allows_are_accepted(settings, admin_client, tool):
    settings.MARTECH_EGRESS_ALLOW = ["hooks.corp.example"]
    for url in ("https://hooks.acme.example/in", "http://hooks.corp.example/in"):
        response = admin_client.post(
            API,
            {
                "name": url,
                "adapter": "webhook",
                "tool": tool.pk,
                "environment": "production",
                "config": {"url": url},
            },
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
    assert Destination.objects.count() == 2
