"""Forms read as forms: a checkbox group is a list of options, each on its own line, and
nothing in it lies over the fields below."""

import pytest

from apps.accounts.notifications import notify
from apps.consent.defaults import ensure_default_purposes
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory, UserFactory

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


def test_the_dead_letter_replay_buttons_fit_a_phone(live_server, browser):
    # given: one dead letter and an engineer who may replay it
    from django.utils import timezone

    from apps.destinations import services as destination_services
    from apps.destinations.models import Delivery
    from apps.tools.services import tool_create

    ensure_default_purposes()
    engineer = AdminFactory(full_name="Priya Natarajan")
    tool = tool_create(actor=engineer, name="Data loader", vendor="Acme", category="Warehouse")
    destination = destination_services.destination_create(
        actor=engineer,
        name="Hooks",
        adapter="webhook",
        tool=tool,
        environment="sandbox",
        config={"url": "https://hooks.example.com/martech"},
        credentials={"signing_secret": "s" * 32},
    )
    Delivery.objects.create(
        destination=destination,
        message_id="m1",
        status="dead",
        attempts=1,
        next_attempt_at=timezone.now(),
        subject="anonymous_id:a1",
        payload={"kind": "event", "identifiers": {}, "fields": {}, "message": {}},
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        _sign_in(phone, live_server.url, engineer)

        # when
        phone.goto(f"{live_server.url}/destinations/dead-letters/")

        # then: both buttons show all their words inside the screen
        for name in ("Replay the ticked ones", "Replay all 1"):
            button = phone.get_by_role("button", name=name)
            box = button.bounding_box()
            assert box["x"] >= 0, name
            assert box["x"] + box["width"] <= 390, name
            assert button.evaluate("e => e.scrollWidth <= e.clientWidth"), name
    finally:
        context.close()


def test_on_a_phone_my_access_shows_why_without_scrolling_sideways(live_server, browser):
    # given
    person = UserFactory(full_name="Jonas Berg")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        _sign_in(phone, live_server.url, person)

        # when
        phone.goto(f"{live_server.url}/access/me/")

        # then: the table is no wider than its card, and each reason is on the screen
        table = phone.locator("table").first
        assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
        reason = phone.locator("tr[data-capability] td").nth(2)
        box = reason.bounding_box()
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
    finally:
        context.close()
