"""Attribution reads a bounded part of a URL, so a long one costs what a real one does."""

import datetime as dt

from apps.events.attribution import MAX_URL, extract

T = dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)
SITE = "https://www.acme.example"


def test_only_the_first_max_url_characters_of_a_page_url_and_referrer_are_parsed():
    # given UTMs early in the URL and a source and click id past the bound
    padding = "x" * MAX_URL
    url = f"{SITE}/?utm_medium=email&pad={padding}&utm_source=late&gclid=late"
    referrer = f"https://{'a' * MAX_URL}.google.com/"

    # when
    touch = extract({"type": "page", "context": {"page": {"url": url, "referrer": referrer}}}, T)

    # then what lies within the bound counts, what lies past it does not
    assert touch["medium"] == "email"
    assert "source" not in touch
    assert "click_id" not in touch
    assert touch["referrer_class"] != "search"


def test_a_long_campaign_value_is_kept_as_its_first_200_characters():
    touch = extract({"type": "track", "context": {"campaign": {"name": "c" * 50_000}}}, T)

    assert touch["campaign"] == "c" * 200
