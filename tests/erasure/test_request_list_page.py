"""The erasure request list is a shared list page: open requests first, searched, filtered by
status, law and date received, and sorted from its headers."""

import datetime as dt

from django.urls import reverse

from apps.erasure import services

from .conftest import verified


def _references(response) -> list[str]:
    return [r.reference for r in response.context["object_list"]]


def test_the_request_list_searches_filters_and_sorts_by_its_headers(admin, client):
    # given: two open requests and a duplicate
    client.force_login(admin)
    today = dt.date.today()
    older = verified(admin, "email:old@acme.example", received_on=today - dt.timedelta(days=10))
    newer = verified(admin, "user_id:cus_42", jurisdiction="ccpa", received_on=today)
    closed = services.request_create(  # a duplicate of the older one
        actor=admin, identifier="email:old@acme.example", channel="email", jurisdiction="gdpr"
    )
    url = reverse("erasure:request_list")

    # when
    opening = client.get(url)
    searched = client.get(url, {"q": newer.reference})
    by_law = client.get(url, {"jurisdiction": "ccpa"})
    by_received = client.get(url, {"received_since": (today - dt.timedelta(days=1)).isoformat()})
    everything_newest_first = client.get(url, {"state": "all", "sort": "-received"})
    duplicates = client.get(url, {"state": "duplicate"})

    # then
    assert _references(opening) == [older.reference, newer.reference]  # due first
    assert _references(searched) == [newer.reference]
    assert _references(by_law) == [newer.reference]
    assert _references(by_received) == [newer.reference]
    assert _references(everything_newest_first)[0] in {newer.reference, closed.reference}
    assert _references(everything_newest_first)[-1] == older.reference
    assert _references(duplicates) == [closed.reference]
    html = everything_newest_first.content.decode()
    assert 'id="list-filter"' in html
    assert 'aria-sort="descending"' in html
