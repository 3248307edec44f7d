"""The destination list is a shared list page: searched, filtered and sorted from its headers."""

from django.urls import reverse

from .conftest import hook
from .vendors import FakeVendor


def _names(response) -> list[str]:
    return [d.name for d in response.context["object_list"]]


def test_the_destination_list_searches_filters_and_sorts_by_its_headers(admin, admin_client, tool):
    # given
    with FakeVendor("webhook") as vendor:
        hook(admin, tool, vendor, name="Alpha orders")
        hook(admin, tool, vendor, name="Beta leads", is_enabled=False)
        hook(admin, tool, vendor, name="Gamma", environment="production")
    url = reverse("destinations:destination_list")

    # when
    searched = admin_client.get(url, {"q": "lead"})
    disabled = admin_client.get(url, {"is_enabled": "false"})
    production = admin_client.get(url, {"environment": "production"})
    by_name_down = admin_client.get(url, {"sort": "-name"})

    # then
    assert _names(searched) == ["Beta leads"]
    assert _names(disabled) == ["Beta leads"]
    assert _names(production) == ["Gamma"]
    assert _names(by_name_down) == ["Gamma", "Beta leads", "Alpha orders"]
    html = by_name_down.content.decode()
    assert 'id="list-filter"' in html
    assert 'aria-sort="descending"' in html
