"""Forms read as forms: a checkbox group is a list of options, each on its own line, and
nothing in it lies over the fields below."""

import pytest

from apps.accounts.notifications import notify
from apps.consent.defaults import ensure_default_purposes
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_destination_purposes_are_a_readable_list_above_the_next_field(live_server, page):
    # given
    ensure_default_purposes()
    engineer = AdminFactory(full_name="Priya Natarajan")
    _sign_in(page, live_server.url, engineer)

    # when
    page.goto(f"{live_server.url}/destinations/new/")

    # then: every option is one line wide enough for its words, and the options end before
    # the field that follows them begins
    options = page.locator("input[name=purposes]")
    assert options.count() >= 2
    events_top = page.locator("#id_event_names").bounding_box()["y"]
    for index in range(options.count()):
        label = page.locator(f"label[for='{options.nth(index).get_attribute('id')}']")
        box = label.bounding_box()
        assert box["height"] < 32, label.inner_text()
        assert box["width"] > 60, label.inner_text()
        assert box["y"] + box["height"] <= events_top, label.inner_text()
    # clicking the words ticks the box
    first = options.first
    page.locator(f"label[for='{first.get_attribute('id')}']").click()
    assert first.is_checked()


def test_the_unread_count_is_legible_inside_the_top_bar(live_server, page):
    # given: a person with an unread notification
    person = AdminFactory(full_name="Priya Natarajan")
    notify(user=person, title="Your request was approved", email=False)
    _sign_in(page, live_server.url, person)

    # when
    page.goto(f"{live_server.url}/people/")

    # then
    badge = page.locator("#unread-count")
    assert badge.inner_text() == "1"
    assert badge.bounding_box()["y"] >= 0
    colour = badge.evaluate("e => getComputedStyle(e).color")
    assert colour in ("rgb(255, 255, 255)", "oklch(1 0 0)"), colour
