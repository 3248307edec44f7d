"""The purpose list is a shared list page: searched, filtered and sorted from its headers."""

from django.urls import reverse

from apps.consent import services
from apps.consent.models import Purpose


def _codes(response) -> list[str]:
    return [p.code for p, _ in response.context["rows"]]


def test_the_purpose_list_searches_filters_and_sorts_by_its_headers(admin, admin_client):
    # given
    Purpose.objects.all().delete()
    for code, name, active in (
        ("alpha", "Alpha", True),
        ("beta", "Beta", False),
        ("gamma", "Gamma", True),
    ):
        services.purpose_create(
            actor=admin,
            code=code,
            name=name,
            legal_basis="consent",
            is_active=active,
            description="Newsletters" if code == "beta" else "",
        )
    url = reverse("consent:purpose_list")

    # when
    searched = admin_client.get(url, {"q": "newsletter"})
    not_in_use = admin_client.get(url, {"is_active": "false"})
    by_name_down = admin_client.get(url, {"sort": "-name"})

    # then
    assert _codes(searched) == ["beta"]
    assert _codes(not_in_use) == ["beta"]
    assert _codes(by_name_down) == ["gamma", "beta", "alpha"]
    html = by_name_down.content.decode()
    assert 'id="list-filter"' in html
    assert 'aria-sort="descending"' in html
