"""The API token page is a shared list page: searched, filtered and sorted from its headers,
and still shows a new token once."""

import pytest
from django.urls import reverse

from apps.accounts import services

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    return [t.name for t in response.context["object_list"]]


def test_the_token_list_searches_filters_and_sorts_by_its_headers(admin, client):
    # given
    client.force_login(admin)
    for name in ("Alpha script", "Beta export", "Gamma"):
        token, _ = services.api_token_create(user=admin, name=name, days=30)
    services.api_token_revoke(token=token)
    url = reverse("accounts:token_list")

    # when
    searched = client.get(url, {"q": "export"})
    revoked = client.get(url, {"status": "revoked"})
    by_name_down = client.get(url, {"sort": "-name"})

    # then
    assert _names(searched) == ["Beta export"]
    assert _names(revoked) == ["Gamma"]
    assert _names(by_name_down) == ["Gamma", "Beta export", "Alpha script"]
    html = by_name_down.content.decode()
    assert 'id="list-filter"' in html
    assert 'aria-sort="descending"' in html
    assert "no-cache" in by_name_down["Cache-Control"]
