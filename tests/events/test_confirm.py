"""Revoking a write key and replaying a source's quarantined events first say what follows."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.events.choices import EventStatus
from apps.events.models import Event, WriteKey
from apps.events.services import source_create

pytestmark = pytest.mark.django_db


def test_revoking_a_write_key_without_confirmation_names_it_and_keeps_it_working(
    admin, admin_client
):
    source, _ = source_create(actor=admin, name="Web")
    key = source.write_keys.get()
    url = reverse("events:key_revoke", args=[source.pk, key.pk])

    page = admin_client.post(url)

    text = page.content.decode()
    assert f"Revoke the write key {key.prefix}… of Web?" in text
    assert "Anything sending events with it gets 401 at once. It has not been used." in text
    assert WriteKey.objects.get(pk=key.pk).revoked_at is None
    admin_client.post(url, {"confirmed": "1"})
    assert WriteKey.objects.get(pk=key.pk).revoked_at is not None


def test_replaying_quarantined_events_counts_them_first(admin, admin_client):
    source, _ = source_create(actor=admin, name="Web")
    for n in range(2):
        Event.objects.create(
            source=source,
            message_id=f"m{n}",
            type="track",
            name="Viewed",
            anonymous_id="ajs-1",
            payload={},
            timestamp=timezone.now(),
            status=EventStatus.QUARANTINED,
        )
    url = reverse("events:source_replay", args=[source.pk])

    page = admin_client.post(url)

    assert "Replay 2 quarantined events of Web?" in page.content.decode()
    assert set(Event.objects.values_list("status", flat=True)) == {EventStatus.QUARANTINED}
    admin_client.post(url, {"confirmed": "1"})
    assert EventStatus.QUARANTINED not in set(Event.objects.values_list("status", flat=True))
