"""The attribution taxonomy, and first/last touch on profiles through the pipeline."""

import datetime as dt

import pytest

from apps.events.attribution import CLICK_IDS, classify_referrer, extract

T = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
SITE = "https://www.acme.example"


def _page(url, referrer="", **context):
    return {"type": "page", "context": {"page": {"url": url, "referrer": referrer}, **context}}


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        ("", "direct"),
        ("https://www.google.de/search?q=shoes", "search"),
        ("https://duckduckgo.com/", "search"),
        ("https://l.facebook.com/l.php", "social"),
        ("https://t.co/abc", "social"),
        ("https://mail.google.com/mail/u/0/", "email"),
        ("https://shop.acme.example/cart", "internal"),
        ("https://blog.partner.example/post", "referral"),
    ],
)
def test_referrers_are_classified(referrer, expected):
    assert classify_referrer(referrer, "www.acme.example") == expected


def test_utms_and_custom_utm_parameters_are_captured():
    url = f"{SITE}/sale?utm_source=newsletter&utm_medium=email&utm_campaign=autumn&utm_audience=vip"
    touch = extract(_page(url), T)
    assert (touch["channel"], touch["source"], touch["campaign"]) == (
        "email",
        "newsletter",
        "autumn",
    )
    assert touch["custom"] == {"utm_audience": "vip"}
    assert touch["marketing"] is True


@pytest.mark.parametrize("param", sorted(CLICK_IDS))
def test_every_click_id_maps_to_its_network_with_its_lifetime(param):
    touch = extract(_page(f"{SITE}/?{param}=abc123"), T)
    network, days = CLICK_IDS[param]
    assert (touch["channel"], touch["network"], touch["click_id"]) == ("paid", network, "abc123")
    assert touch["click_expires"] == (T + dt.timedelta(days=days)).isoformat()


def test_segment_context_campaign_fills_missing_utms():
    touch = extract(
        _page(f"{SITE}/", campaign={"name": "spring", "source": "google", "medium": "cpc"}), T
    )
    assert (touch["channel"], touch["campaign"], touch["medium"]) == ("paid", "spring", "cpc")


def test_direct_and_internal_navigation_are_not_marketing():
    assert extract(_page(f"{SITE}/"), T)["marketing"] is False
    internal = extract(_page(f"{SITE}/b", referrer=f"{SITE}/a"), T)
    assert (internal["channel"], internal["marketing"]) == ("internal", False)


def test_a_track_call_without_a_page_or_campaign_is_no_arrival():
    assert extract({"type": "track", "properties": {"total": 3}}, T) is None
