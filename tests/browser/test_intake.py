"""A request walks Problem → People → System → Decision in the browser and ends as a tool."""

import pytest
from playwright.sync_api import expect

from apps.access import services as svc
from apps.intake.models import IntakeRequest
from apps.tools.models import Tool
from apps.tools.services import tool_create
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_intake_walks_from_problem_to_an_approved_tool(live_server, page, browser, screenshot):
    # given: a marketer who may submit, an approver who may decide, and Braze in the registry
    admin = AdminFactory(full_name="Priya Raman")
    role = svc.role_create(actor=admin, name="Intake", owner=admin)
    svc.role_capability_set(actor=admin, role=role, capability="intake.submit")
    deciders = svc.role_create(actor=admin, name="Deciders", owner=admin)
    svc.role_capability_set(actor=admin, role=deciders, capability="intake.decide")
    svc.role_capability_set(actor=admin, role=deciders, capability="tools.view")
    mei = UserFactory(full_name="Mei Tanaka", team="Lifecycle Marketing")
    sam = UserFactory(full_name="Sam Okafor")
    jonas = UserFactory(full_name="Jonas Berg")
    svc.role_assign(actor=admin, user=mei, role=role)
    svc.role_assign(actor=admin, user=sam, role=deciders)
    tool_create(
        actor=admin,
        name="Braze",
        vendor="Braze",
        category="Messaging",
        capabilities=["push_sms", "email_lifecycle"],
    )
    base = live_server.url

    # when: Mei states the problem
    _sign_in(page, base, mei)
    page.goto(f"{base}/intake/")
    page.get_by_role("link", name="New request").click()
    page.get_by_label("Title").fill("Every push campaign needs an engineer")
    page.get_by_label("The discrete issue").fill("Push copy and audiences change only by deploy.")
    page.get_by_label("Who suffers it").fill("Lifecycle marketers and the mobile team.")
    page.get_by_label("Hours lost a month").fill("24")
    page.get_by_label("Evidence").fill("14 push tickets in October; median wait 6 days.")
    page.get_by_role("button", name="Start the request").click()
    expect(page.get_by_test_id("stage")).to_have_text("Problem")
    # the System stage is closed: no tool can be named yet
    expect(page.locator("#system")).to_contain_text("Opens when the problem and the people")
    page.get_by_role("button", name="Problem is clear: go to People").click()
    expect(page.get_by_test_id("stage")).to_have_text("People")

    # People: Sam approves, Jonas needs training
    people = page.locator("#people")
    people.get_by_label("Person").select_option(label=sam.full_name)
    people.get_by_label("Part").select_option("approver")
    people.get_by_role("button", name="Add").click()
    expect(page.get_by_text(f"{sam.full_name} is an approver.")).to_be_visible()
    people.get_by_label("Person").select_option(label=jonas.full_name)
    people.get_by_label("Part").select_option("needs_training")
    people.get_by_role("button", name="Add").click()
    expect(page.get_by_text(f"{jonas.full_name} needs training.")).to_be_visible()
    page.get_by_role("button", name="People are clear: go to System").click()
    expect(page.get_by_test_id("stage")).to_have_text("System")

    # System: buy, push; the registry overlap shows at once
    page.locator("#system").get_by_role("link", name="Edit").click()
    page.get_by_label("Buy", exact=True).check()
    page.get_by_label("Push and SMS").check()
    page.get_by_role("button", name="Save the system").click()
    expect(page.get_by_test_id("overlap")).to_contain_text(
        "You already pay for 1 tool with push and SMS: Braze"
    )
    system = page.locator("#system")
    system.get_by_label("Candidate").fill("OneSignal")
    system.get_by_label("Vendor").fill("OneSignal")
    system.get_by_label("Cost a year").fill("18000")
    system.get_by_role("button", name="Add").click()
    expect(system).to_contain_text("Preferred")
    screenshot("intake-system")
    page.get_by_role("button", name="Send for decision").click()
    expect(page.get_by_test_id("stage")).to_have_text("Decision")
    expect(page.get_by_label("Your comment")).to_have_count(0)  # Mei cannot approve

    # then: Sam approves with a comment, and OneSignal is in the registry as evaluating
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    approver = context.new_page()
    try:
        _sign_in(approver, base, sam)
        req = IntakeRequest.objects.get()
        approver.goto(f"{base}/intake/{req.pk}/")
        approver.get_by_label("Your comment").fill("Yes, but check Braze's push add-on first.")
        approver.get_by_role("button", name="Approve").click()
        expect(approver.get_by_test_id("outcome")).to_have_text("Approved")
        expect(approver.locator("#onboarding")).to_contain_text(
            "Train the people who need it: Jonas Berg"
        )
        approver.screenshot(path=str(_shot("intake-approved")), full_page=True)
        approver.get_by_test_id("tool-link").click()
        expect(approver.locator(".page-title")).to_contain_text("Evaluating")
    finally:
        context.close()
    page.goto(f"{base}/intake/")
    expect(page.locator("[data-stage=closed]")).to_contain_text("Every push campaign")
    expect(page.locator("[data-stage=decision]")).to_contain_text("Nothing here.")
    screenshot("intake-board")
    tool = Tool.objects.get(name="OneSignal")
    assert tool.status == "evaluating"
    assert tool.business_owner == mei
    history = list(req.history.values_list("message", flat=True))
    assert history[-1] == "Approved by every approver; OneSignal is evaluating."
    assert page.console_errors == []


def _shot(name):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
