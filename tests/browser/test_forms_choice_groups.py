"""Checkbox and radio groups read as lists of options in every form: each input is a visible
box you can click, each option's words sit beside it, and the group ends before the next field
begins, on a laptop and on a phone."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from apps.intake import services as intake
from apps.tools.services import tool_create
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _overlap(a, b) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def _assert_readable_group(page, name: str, next_field: str) -> None:
    """Every option of ``name`` is a visible box with its words, none lies on another, and the
    group ends above ``next_field``."""
    options = page.locator(f"input[name={name}]")
    assert options.count() >= 2
    group = page.locator(f"fieldset:has(input[name={name}])")
    expect(group.locator("legend")).to_be_visible()
    next_top = page.locator(next_field).bounding_box()["y"]
    boxes = []
    for index in range(options.count()):
        option = options.nth(index)
        expect(option).to_be_visible()
        box = option.bounding_box()
        # a box, not a bar
        assert 12 <= box["width"] <= 24, box
        assert 12 <= box["height"] <= 24, box
        label = page.locator(f"label[for='{option.get_attribute('id')}']")
        words = label.bounding_box()
        assert words["width"] > 40, label.inner_text()
        assert words["height"] < 48, label.inner_text()  # at most two lines
        assert words["x"] > box["x"], label.inner_text()  # the words follow the box
        assert words["y"] + words["height"] <= next_top, label.inner_text()
        boxes.append(words)
    for index, words in enumerate(boxes):
        assert not any(_overlap(words, other) for other in boxes[index + 1 :]), index


def test_tool_form_checkboxes_are_a_list_above_the_next_field_on_laptop_and_phone(
    live_server, page, screenshot
):
    # given
    admin = AdminFactory(full_name="Priya Raman")
    _sign_in(page, live_server.url, admin)

    # when
    page.goto(f"{live_server.url}/tools/new/")

    # then
    _assert_readable_group(page, "capabilities", "#id_status")
    _assert_readable_group(page, "data_categories", "#id_dpa_on_file")
    screenshot("forms-tool-create")
    # clicking the words ticks the box, and again unticks it
    first = page.locator("input[name=capabilities]").first
    page.locator(f"label[for='{first.get_attribute('id')}']").click()
    expect(first).to_be_checked()
    page.locator(f"label[for='{first.get_attribute('id')}']").click()
    expect(first).not_to_be_checked()

    # and on a phone
    page.set_viewport_size(PHONE)
    page.reload()
    _assert_readable_group(page, "capabilities", "#id_status")
    _assert_readable_group(page, "data_categories", "#id_dpa_on_file")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], scroll_width
    screenshot("forms-tool-create-phone")


def test_tool_form_names_every_problem_in_one_submit(live_server, page, screenshot):
    # given: a tool already registered under the name about to be typed
    admin = AdminFactory(full_name="Priya Raman")
    tool_create(actor=admin, name="Braze", vendor="Braze", category="Messaging")
    _sign_in(page, live_server.url, admin)
    page.goto(f"{live_server.url}/tools/new/")

    # when: the form is sent once with a clash, bad figures and bad dates
    page.fill("#id_name", "braze")
    page.fill("#id_vendor", "Braze")
    page.fill("#id_category", "Messaging")
    page.locator("label", has_text="Push and SMS").click()
    page.fill("#id_annual_cost", "-5")
    page.fill("#id_currency", "ZZZ")
    page.fill("#id_seats_bought", "5")
    page.fill("#id_seats_used", "50")
    page.fill("#id_contract_start", "2027-03-01")
    page.fill("#id_renewal_date", "2027-01-01")
    page.get_by_role("button", name="Register tool").click()

    # then: each problem shows under its field at once, and the ticked option stays ticked
    feedback = page.locator(".invalid-feedback")
    expect(feedback.filter(has_text="A tool named Braze is already registered.")).to_be_visible()
    expect(feedback.filter(has_text="Annual cost can't be negative.")).to_be_visible()
    expect(feedback.filter(has_text="“ZZZ” is not a currency code")).to_be_visible()
    expect(
        feedback.filter(has_text="Seats in use (50) can't be more than seats bought (5).")
    ).to_be_visible()
    expect(feedback.filter(has_text="before it starts")).to_be_visible()
    expect(page.get_by_label("Push and SMS")).to_be_checked()
    screenshot("forms-tool-create-all-errors")


def test_intake_system_stage_radios_and_checkboxes_can_be_seen_and_chosen(
    live_server, page, screenshot
):
    # given: a request at the System stage
    admin = AdminFactory(full_name="Priya Raman")
    request = intake.intake_create(
        actor=admin,
        title="Push without engineers",
        problem_statement="Push campaigns need an engineer for every change.",
        who_suffers="Lifecycle marketers and the mobile team.",
        cost_hours_per_month=Decimal("24"),
        evidence="14 tickets in October.",
    )
    request = intake.intake_advance(actor=admin, request=request)
    decider = AdminFactory(full_name="Alice Approver")
    intake.stakeholder_add(actor=admin, request=request, person=decider, part="approver")
    intake.intake_advance(actor=admin, request=request)
    _sign_in(page, live_server.url, admin)

    # when
    page.goto(f"{live_server.url}/intake/{request.pk}/system/")

    # then: the approaches are radios with their words, one of which can be chosen
    radios = page.locator("input[name=approach]")
    assert radios.count() == 3
    assert {radios.nth(i).get_attribute("type") for i in range(3)} == {"radio"}
    _assert_readable_group(page, "approach", "#id_proposed_capabilities")
    _assert_readable_group(page, "proposed_capabilities", "#id_system_design")
    page.locator("label", has_text="Build and buy").click()
    expect(page.get_by_label("Build and buy")).to_be_checked()
    page.get_by_label("Push and SMS").check()
    screenshot("forms-intake-system")
    page.get_by_role("button", name="Save the system").click()
    expect(page.locator("#system")).to_contain_text("Push and SMS")

    # and on a phone
    page.goto(f"{live_server.url}/intake/{request.pk}/system/")
    page.set_viewport_size(PHONE)
    _assert_readable_group(page, "approach", "#id_proposed_capabilities")
    _assert_readable_group(page, "proposed_capabilities", "#id_system_design")
    screenshot("forms-intake-system-phone")
