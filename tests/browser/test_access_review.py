"""On a 1,440 px screen a reviewer sees every person's Keep and Revoke buttons without
scrolling sideways, however many capabilities their role has."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.access import services as svc
from apps.access.registry import all_capabilities
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("reviewing", ["capability", "role"])
def test_the_decision_buttons_stay_on_screen_for_a_role_with_every_capability(
    live_server, page, screenshot, reviewing
):
    # given a role holding every capability, and a review of it or of one of its capabilities
    admin = AdminFactory(full_name="Dana Whitfield")
    role = svc.role_create(actor=admin, name="Marketing Operations", owner=admin)
    for capability in all_capabilities():
        svc.role_capability_set(actor=admin, role=role, capability=capability.code)
    for name in ("Leo Martins", "Priya Raman"):
        svc.role_assign(actor=admin, user=UserFactory(full_name=name), role=role)
    campaign = svc.review_campaign_create(
        actor=admin,
        name="Q4 access review",
        **({"capabilities": ["audit.view"]} if reviewing == "capability" else {"roles": [role]}),
        deadline=timezone.now() + dt.timedelta(days=9),
        unreviewed_policy="keep",
    )

    # when the reviewer opens it on a 1,440 px wide screen
    page.set_viewport_size({"width": 1440, "height": 900})
    _sign_in(page, live_server.url, admin)
    page.goto(f"{live_server.url}/access/reviews/{campaign.pk}/")

    # then every Keep and Revoke button is inside the screen and the table does not scroll
    buttons = page.locator("button[name=decision]")
    expect(buttons).to_have_count(4)
    for index in range(4):
        box = buttons.nth(index).bounding_box()
        assert box["x"] + box["width"] <= 1440, (index, box)
    table = page.locator(".table-responsive")
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth")
    screenshot(f"access_review_{reviewing}")
