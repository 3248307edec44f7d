"""The attribution report speaks in the documented channels, with the console's filter bar."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.events.attribution import CHANNELS, extract
from apps.identity import services as identity

SITE = "https://www.acme.example"
T = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _page(url, referrer=""):
    return {"type": "page", "context": {"page": {"url": url, "referrer": referrer}}}


@pytest.mark.parametrize(
    ("url", "referrer", "channel"),
    [
        (f"{SITE}/?utm_source=partner&utm_campaign=spring", "", "referral"),
        (f"{SITE}/?utm_source=qr&utm_medium=print", f"{SITE}/a", "referral"),
        (f"{SITE}/?utm_source=google&utm_medium=organic", "", "search"),
        (f"{SITE}/?utm_source=news&utm_medium=email", "", "email"),
        (f"{SITE}/?gclid=abc", "", "paid"),
        (f"{SITE}/?utm_source=x", "https://blog.partner.example/", "referral"),
        (f"{SITE}/", "", "direct"),
    ],
)
def test_a_tagged_arrival_gets_a_documented_channel(url, referrer, channel):
    touch = extract(_page(url, referrer), T)

    assert touch["channel"] == channel
    assert touch["channel"] in CHANNELS
    assert touch["marketing"] is (channel != "direct")


@pytest.mark.django_db
def test_the_report_names_no_undocumented_channel_and_says_when_there_is_no_arrival(
    admin_client,
):
    # given a profile recorded under the former "campaign" channel, and one whose last touch
    # carries no channel
    now = timezone.now()
    identity.touch_record(("email", "a@example.com"), {"channel": "campaign"}, at=now)
    identity.touch_record(("email", "b@example.com"), {"channel": "direct"}, at=now)
    identity.touch_record(("email", "b@example.com"), {"source": "x"}, at=now)
    identity.touch_record(("email", "c@example.com"), {"channel": "referral"}, at=now)

    # when
    page = admin_client.get(reverse("events:attribution"))

    # then
    html = page.content.decode()
    rows = {
        value: (int(first), int(last))
        for value, first, last in re.findall(
            r'<tr data-value="([^"]+)"><td>[^<]+</td><td class="text-end">(\d+)</td>'
            r'<td class="text-end">(\d+)</td>',
            html,
        )
    }
    assert rows == {
        "referral": (2, 2),
        "direct": (1, 0),
        "No marketing arrival yet": (0, 1),
    }
    assert "(none)" not in html


@pytest.mark.django_db
def test_the_attribution_filters_use_the_shared_filter_bar(admin_client):
    html = admin_client.get(reverse("events:attribution")).content.decode()

    form = html.split('class="card-body py-3 console-filter"', 1)[1].split("</form>", 1)[0]
    assert re.search(r'<input type="date" name="start"[^>]*class="form-control"', form)
    assert re.search(r'<select name="dimension"[^>]*class="form-select"', form)
