"""The tracking plan list is a shared list page: searched and sorted from its headers."""

from django.urls import reverse

from apps.schemas import services


def _names(response) -> list[str]:
    return [p.name for p in response.context["object_list"]]


def test_the_plan_list_searches_and_sorts_by_its_headers(admin, client):
    # given
    client.force_login(admin)
    services.plan_create(actor=admin, name="Alpha web")
    services.plan_create(actor=admin, name="Beta app", description="The mobile checkout")
    services.plan_create(actor=admin, name="Gamma backend")
    url = reverse("schemas:plan_list")

    # when
    searched = client.get(url, {"q": "checkout"})
    by_name_down = client.get(url, {"sort": "-name"})

    # then
    assert _names(searched) == ["Beta app"]
    assert _names(by_name_down) == ["Gamma backend", "Beta app", "Alpha web"]
    html = by_name_down.content.decode()
    assert 'id="list-filter"' in html
    assert 'aria-sort="descending"' in html
