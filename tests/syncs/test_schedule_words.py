"""A sync's schedule reads as words on its pages, with the cron kept as a tooltip."""

import pytest

from apps.syncs.models import Sync

from .conftest import destination_for, sync_for


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"schedule": "cron", "cron": "0 6 * * *"}, "At 06:00 (UTC)"),
        (
            {"schedule": "cron", "cron": "*/15 9-17 * * 1-5"},
            "Every 15 minutes, between 09:00 and 17:59, Monday through Friday (UTC)",
        ),
        ({"schedule": "interval", "interval_minutes": 60}, "every 60 minutes"),
        ({"schedule": "interval", "interval_minutes": 1}, "every 1 minute"),
        ({"schedule": "manual"}, "manual"),
    ],
)
def test_a_schedule_is_described_in_words(fields, words):
    assert Sync(**fields).schedule_words == words


def test_the_sync_pages_show_the_schedule_in_words(
    admin, admin_client, model, tool, webhook_vendor
):
    sync = sync_for(
        admin,
        model,
        destination_for(admin, tool, webhook_vendor),
        schedule="cron",
        cron="0 6 * * *",
    )
    for url in ("/syncs/", f"/syncs/{sync.pk}/"):
        html = admin_client.get(url).content.decode()
        assert 'title="0 6 * * *">At 06:00 (UTC)</span>' in html
