"""From Ctrl+K a person acts: the palette lists what they may do under Actions, the arrows
and Enter choose one, the action's own confirmation asks, and confirming does it."""

import pytest
from playwright.sync_api import expect

from apps.access import services as svc
from apps.access.models import AccessAssignment
from apps.audit.models import AuditEvent
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_revoke_a_role_from_the_command_palette(live_server, page, screenshot):
    # given: two people hold the Auditors role
    admin = AdminFactory(full_name="Priya Raman")
    role = svc.role_create(actor=admin, name="Auditors", owner=admin)
    svc.role_capability_set(actor=admin, role=role, capability="audit.view", min_tenure_days=0)
    ana = UserFactory(full_name="Ana Auditor")
    ben = UserFactory(full_name="Ben Auditor")
    for person in (ana, ben):
        svc.role_assign(actor=admin, user=person, role=role)
    _sign_in(page, live_server.url, admin)
    expect(page.get_by_role("heading", name="Good to see you, Priya")).to_be_visible()

    # when: Ctrl+K, typing the verb and the role
    page.keyboard.press("Control+k")
    expect(page.locator("#palette-input")).to_be_focused()
    page.keyboard.type("revoke auditors")

    # then: the actions come first, under their heading, the first one chosen
    results = page.locator("#palette-results")
    actions = results.get_by_role("group", name="Actions")
    expect(actions.get_by_role("option")).to_contain_text(
        ["Revoke Auditors from Ana Auditor", "Revoke Auditors from Ben Auditor"]
    )
    expect(actions.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    screenshot("palette-actions")

    # when: the down arrow moves to Ben, and Enter follows it
    page.keyboard.press("ArrowDown")
    expect(actions.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")

    # then: the removal's own confirmation asks, and nothing changed yet
    expect(page.get_by_role("heading", name="Remove Auditors from Ben Auditor?")).to_be_visible()
    expect(page.get_by_test_id("consequence")).to_contain_text("Ben Auditor loses Auditors")
    assert AccessAssignment.objects.filter(user=ben, ended_at__isnull=True).exists()

    # when: confirming
    page.get_by_role("button", name="Remove").click()

    # then: Ben lost the role, Ana kept it, and the audit log says who did it
    expect(page.get_by_role("heading", name="Ben Auditor", level=1)).to_be_visible()
    expect(page.get_by_text("Auditors removed from Ben Auditor.")).to_be_visible()
    assert not AccessAssignment.objects.filter(user=ben, ended_at__isnull=True).exists()
    assert AccessAssignment.objects.filter(user=ana, ended_at__isnull=True).exists()
    ended = AuditEvent.objects.get(action="accounts.assignment.ended")
    assert ended.actor_id == admin.pk
    assert page.console_errors == []
