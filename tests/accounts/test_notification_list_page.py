"""The notification list is a shared list page: searched, filtered and sorted from its
headers, and only ever the signed-in person's own notifications."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _titles(response) -> list[str]:
    return [n.title for n in response.context["object_list"]]


def test_the_notification_list_searches_filters_and_sorts_by_its_headers(admin, client):
    # given
    client.force_login(admin)
    for title, body in (("Alpha", ""), ("Beta", "Your renewal is due"), ("Gamma", "")):
        Notification.objects.create(user=admin, title=title, body=body)
    Notification.objects.filter(title="Gamma").update(read_at=timezone.now())
    Notification.objects.create(user=UserFactory(), title="Someone else's")
    url = reverse("accounts:notification_list")

    # when
    searched = client.get(url, {"q": "renewal"})
    unread = client.get(url, {"status": "unread", "sort": "title"})
    by_title_down = client.get(url, {"sort": "-title"})

    # then
    assert _titles(searched) == ["Beta"]
    assert _titles(unread) == ["Alpha", "Beta"]
    assert _titles(by_title_down) == ["Gamma", "Beta", "Alpha"]
    html = by_title_down.content.decode()
    assert 'id="list-filter"' in html
    assert 'aria-sort="descending"' in html
