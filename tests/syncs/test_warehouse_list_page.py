"""The warehouse list is a shared list page: searched, filtered and sorted from its headers."""

from django.urls import reverse

from apps.syncs import services


def _names(response) -> list[str]:
    return [w.name for w in response.context["object_list"]]


def test_the_warehouse_list_searches_filters_and_sorts_by_its_headers(admin, client, warehouse):
    # given: "Analytics" on PostgreSQL, two on the console's own database
    client.force_login(admin)
    for name in ("Beta local", "Gamma local"):
        services.warehouse_create(actor=admin, name=name, kind="console")
    url = reverse("syncs:warehouse_list")

    # when
    searched = client.get(url, {"q": "gamma"})
    on_postgres = client.get(url, {"kind": "postgres"})
    by_name_down = client.get(url, {"sort": "-name"})

    # then
    assert _names(searched) == ["Gamma local"]
    assert _names(on_postgres) == ["Analytics"]
    assert _names(by_name_down) == ["Gamma local", "Beta local", "Analytics"]
    html = by_name_down.content.decode()
    assert 'id="list-filter"' in html
    assert 'aria-sort="descending"' in html
