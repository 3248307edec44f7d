"""The model list is a shared list page: searched, filtered and sorted from its headers."""

from django.urls import reverse

from apps.syncs import services


def _names(response) -> list[str]:
    return [m.name for m in response.context["object_list"]]


def test_the_model_list_searches_filters_and_sorts_by_its_headers(admin, client, warehouse, table):
    # given
    client.force_login(admin)
    table.fill(3)
    for name, description in (("Alpha people", ""), ("Beta buyers", "Who bought"), ("Gamma", "")):
        services.model_create(
            actor=admin,
            name=name,
            warehouse=warehouse,
            primary_key="id",
            description=description,
            sql=f"SELECT id, email FROM {table.name}",  # noqa: S608
        )
    other = services.warehouse_create(actor=admin, name="Elsewhere", kind="console")
    url = reverse("syncs:model_list")

    # when
    searched = client.get(url, {"q": "bought"})
    on_warehouse = client.get(url, {"warehouse": warehouse.pk})
    on_other = client.get(url, {"warehouse": other.pk})
    by_name_down = client.get(url, {"sort": "-name"})

    # then
    assert _names(searched) == ["Beta buyers"]
    assert _names(on_warehouse) == ["Alpha people", "Beta buyers", "Gamma"]
    assert _names(on_other) == []
    assert _names(by_name_down) == ["Gamma", "Beta buyers", "Alpha people"]
    html = by_name_down.content.decode()
    assert 'id="list-filter"' in html
    assert 'aria-sort="descending"' in html
