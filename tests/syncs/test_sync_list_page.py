"""The sync list is a shared list page: searched, filtered and sorted from its headers."""

from django.urls import reverse

from .conftest import destination_for, sync_for


def _names(response) -> list[str]:
    return [s.name for s in response.context["object_list"]]


def test_the_sync_list_searches_filters_and_sorts_by_its_headers(
    admin, client, model, tool, webhook_vendor
):
    # given
    client.force_login(admin)
    destination = destination_for(admin, tool, webhook_vendor)
    for name, mode in (("Alpha people", "upsert"), ("Beta buyers", "mirror"), ("Gamma", "insert")):
        sync_for(admin, model, destination, name=name, mode=mode)
    url = reverse("syncs:sync_list")

    # when
    searched = client.get(url, {"q": "buy"})
    filtered = client.get(url, {"mode": "mirror"})
    by_name_down = client.get(url, {"sort": "-name"})

    # then
    assert _names(searched) == ["Beta buyers"]
    assert _names(filtered) == ["Beta buyers"]
    assert _names(by_name_down) == ["Gamma", "Beta buyers", "Alpha people"]
    html = by_name_down.content.decode()
    assert 'id="list-filter"' in html
    assert 'aria-sort="descending"' in html
