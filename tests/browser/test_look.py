"""The console keeps its look on the lean assets.

Pages load tabler.console.min.css, the part of the design system's CSS that the console
uses. Each test opens pages in the states people see them in (menus and dialogs open, a box
ticked, a form with errors) and compares every element's computed style under the lean CSS
with the style the full tabler.min.css gives it: any rule cut too much shows as a difference.
The icons are drawn inline, each from its own shapes. The screenshots
(artifacts/screenshots/look-*.png) are for a person to look at after such a change.
"""

import pytest
from playwright.sync_api import expect

from apps.audit.services import audit_record
from apps.consent.defaults import ensure_default_purposes
from apps.tools.services import tool_create
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEAN = "vendor/tabler/tabler.console.min.css"
FULL = "vendor/tabler/tabler.min.css"

# What a person sees of an element: its box, its colours, its type, its drawing.
_PROPERTIES = (
    "display position top right bottom left z-index float width height min-width max-width "
    "min-height max-height margin-top margin-right margin-bottom margin-left padding-top "
    "padding-right padding-bottom padding-left border-top-width border-right-width "
    "border-bottom-width border-left-width border-top-style border-top-color "
    "border-bottom-color border-top-left-radius border-bottom-right-radius outline-style "
    "outline-color box-shadow color background-color background-image opacity visibility "
    "transform font-family font-size font-weight line-height text-align text-transform "
    "text-decoration-line white-space letter-spacing vertical-align cursor overflow-x "
    "overflow-y flex-direction flex-wrap justify-content align-items gap "
    "grid-template-columns list-style-type appearance fill stroke stroke-width content "
    "mask-image clip-path filter "
)

# Every element's (and its ::before's and ::after's, when they are drawn) computed style,
# once with the stylesheet the page links and once with the full one in its place; the
# differences, at most 20.
_COMPARE_WITH_FULL_CSS = """
async ([lean, full, properties]) => {
  const names = properties.trim().split(/\\s+/);
  const link = [...document.querySelectorAll("link[rel=stylesheet]")]
    .find((l) => l.href.includes(lean));
  if (!link) return ["the page does not link " + lean];
  const elements = [...document.querySelectorAll("html, html *")];
  const snapshot = () => elements.flatMap((element) =>
    [null, "::before", "::after"].map((pseudo) => {
      const style = getComputedStyle(element, pseudo);
      if (pseudo && style.content === "none") return {};
      return Object.fromEntries(names.map((name) => [name, style.getPropertyValue(name)]));
    }));
  const before = snapshot();
  await new Promise((resolve, reject) => {
    link.onload = resolve;
    link.onerror = reject;
    link.href = link.href.replace(lean, full);
  });
  const after = snapshot();
  const differences = [];
  before.forEach((values, index) => {
    const element = elements[Math.floor(index / 3)];
    const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") +
      (typeof element.className === "string" && element.className ?
        "." + element.className.trim().split(/\\s+/).join(".") : "") +
      ([null, "::before", "::after"][index % 3] || "");
    for (const key of new Set([...Object.keys(values), ...Object.keys(after[index])])) {
      if (values[key] !== after[index][key] && differences.length < 20) {
        differences.push(`${name} ${key}: ${values[key]} (full CSS: ${after[index][key]})`);
      }
    }
  });
  link.href = link.href.replace(full, lean);
  return differences;
}
"""


def _looks_as_with_the_full_css(page, name: str) -> None:
    """The page, as it is now, is styled exactly as the full design-system CSS styles it."""
    page.screenshot(path=str(_artifact(name)), full_page=True)
    differences = page.evaluate(_COMPARE_WITH_FULL_CSS, [LEAN, FULL, _PROPERTIES])
    assert differences == [], "\n".join(differences)


def _icons_draw_inline(page) -> None:
    """Every icon on the page is an inline <svg> with its own shapes, at the design's size."""
    icons = page.locator("svg.icon")
    assert icons.count() > 5
    assert page.locator("svg.icon use").count() == 0
    for index in range(icons.count()):
        icon = icons.nth(index)
        if not icon.is_visible():
            continue
        assert icon.locator("path, circle, rect, line, polyline, polygon, ellipse").count()
        box = icon.bounding_box()
        assert 10 <= box["width"] <= 40, icon.evaluate("e => e.outerHTML")


def _artifact(name: str):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def test_pages_menus_and_dialogs_look_as_with_the_full_design_system(live_server, page):
    # given: an administrator, a colleague, some history and a tool
    ensure_default_purposes()
    admin = AdminFactory(full_name="Priya Raman", job_title="Director of Marketing Operations")
    colleague = UserFactory(full_name="Dana Whitfield", job_title="Marketing Operations Manager")
    audit_record(action="accounts.user.updated", target=colleague, before={"a": 1}, after={"a": 2})
    audit_record(action="accounts.user.deleted", target=colleague)
    tool_create(actor=admin, name="Braze", vendor="Braze", category="Messaging")
    page.emulate_media(reduced_motion="reduce")
    _sign_in(page, live_server.url, admin)

    # when: the overview opens, then then user menu
    expect(page.locator("#status-text")).to_have_text("All systems ready", timeout=10_000)
    page.wait_for_function("document.getElementById('activity-chart').width > 0")

    # then
    _looks_as_with_the_full_css(page, "look-dashboard")
    _icons_draw_inline(page)
    page.get_by_role("link", name="Open user menu").click()
    expect(page.locator(".dropdown-menu.show")).to_be_visible()
    _looks_as_with_the_full_css(page, "look-user-menu")
    page.keyboard.press("Escape")

    # when: the command palette opens and finds a person
    page.keyboard.press("Control+k")
    expect(page.locator("#palette-input")).to_be_focused()
    page.keyboard.type("dana")
    expect(page.locator("#palette-results").get_by_role("option").first).to_be_visible()

    # then
    _looks_as_with_the_full_css(page, "look-command-palette")
    page.keyboard.press("Escape")
    expect(page.locator("#command-palette")).to_be_hidden()

    # when: a list with coloured badges opens
    page.goto(f"{live_server.url}/audit/")
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()

    # then
    _looks_as_with_the_full_css(page, "look-audit-list")
    _icons_draw_inline(page)

    # when: a form with a group of checkboxes opens, and one is ticked
    page.goto(f"{live_server.url}/destinations/new/")
    page.locator("input[name=purposes]").first.check()

    # then
    _looks_as_with_the_full_css(page, "look-form-checkboxes")

    # when: a form is sent incomplete and comes back with its errors
    page.goto(f"{live_server.url}/tools/new/")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator(".is-invalid").first).to_be_visible()

    # then
    _looks_as_with_the_full_css(page, "look-form-errors")


def test_the_phone_menu_looks_as_with_the_full_design_system(live_server, browser):
    # given
    admin = AdminFactory()
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, reduced_motion="reduce"
    )
    phone = context.new_page()
    try:
        _sign_in(phone, live_server.url, admin)
        expect(phone.locator("#sidebar-menu")).to_be_hidden()

        # when
        phone.locator(".navbar-toggler").click()
        expect(phone.locator("#sidebar-menu.show")).to_be_visible()

        # then
        _looks_as_with_the_full_css(phone, "look-phone-menu")
        _icons_draw_inline(phone)
    finally:
        context.close()
