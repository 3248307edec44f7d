"""The access review list is a shared list page: searched, filtered and sorted from its
headers."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.access import services as svc

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    return [c.name for c in response.context["object_list"]]


def test_the_review_list_searches_filters_and_sorts_by_its_headers(admin, admin_client):
    # given
    soon = timezone.now() + dt.timedelta(days=9)
    campaigns = {
        name: svc.review_campaign_create(
            actor=admin,
            name=name,
            description=description,
            capabilities=["audit.view"],
            deadline=soon,
            unreviewed_policy="keep",
        )
        for name, description in (("Alpha", ""), ("Beta", "Quarterly audit"), ("Gamma", ""))
    }
    svc.review_campaign_close(campaign=campaigns["Gamma"], actor=admin)
    url = reverse("access:review_list")

    # when
    searched = admin_client.get(url, {"q": "quarterly"})
    closed = admin_client.get(url, {"status": "closed"})
    by_name_down = admin_client.get(url, {"sort": "-name"})

    # then
    assert _names(searched) == ["Beta"]
    assert _names(closed) == ["Gamma"]
    assert _names(by_name_down) == ["Gamma", "Beta", "Alpha"]
    html = by_name_down.content.decode()
    assert 'id="list-filter"' in html
    assert 'aria-sort="descending"' in html
