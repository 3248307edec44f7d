"""An admin gives a person a role in the browser; the person sees what they may do and why."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.access import services as svc
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_assigns_a_role_and_the_person_sees_why(live_server, page, browser, screenshot):
    # given: a role whose audit.view needs 90 days, and two people either side of it
    admin = AdminFactory(full_name="Priya Raman")
    role = svc.role_create(actor=admin, name="Lifecycle Marketer", owner=admin)
    svc.role_capability_set(actor=admin, role=role, capability="audit.view", min_tenure_days=90)
    veteran = UserFactory(
        full_name="Mei Tanaka", start_date=timezone.localdate() - dt.timedelta(days=120)
    )
    newcomer = UserFactory(
        full_name="Jonas Berg", start_date=timezone.localdate() - dt.timedelta(days=78)
    )

    # when: the admin assigns the role on each person's page
    _sign_in(page, live_server.url, admin)
    for person in (veteran, newcomer):
        page.goto(f"{live_server.url}/people/{person.pk}/")
        page.get_by_label("Assign a role").select_option(label="Lifecycle Marketer")
        page.get_by_role("button", name="Assign").click()
        expect(page.get_by_text("Lifecycle Marketer assigned to")).to_be_visible()

    # then: the veteran holds audit.view with its reason, the newcomer waits for tenure
    page.goto(f"{live_server.url}/people/{veteran.pk}/")
    row = page.locator("tr[data-capability='audit.view']")
    expect(row).to_contain_text("granted")
    expect(row).to_contain_text("Lifecycle Marketer role, tenure 90 days reached on")
    screenshot("person-access")

    # and the newcomer, signed in, sees when it will come
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    own = context.new_page()
    try:
        _sign_in(own, live_server.url, newcomer)
        own.goto(f"{live_server.url}/access/me/")
        expect(own.get_by_role("status")).to_contain_text("In 12 days")
        expect(own.locator("tr[data-capability='audit.view']")).to_contain_text("upcoming")
        own.screenshot(path=str(_path("my-access")), full_page=True)
    finally:
        context.close()
    assert page.console_errors == []


def _path(name):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
