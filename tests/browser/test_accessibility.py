"""The demo's pages meet WCAG 2.1 AA as axe-core checks it, for three kinds of people.

The operations director (who sees everything) opens every page of the menu and, from each,
the first record it links to; a lifecycle marketer who may mostly look (mei.tanaka) and the
new hire twelve days in (jonas.berg) open every page of their menus, which show them less,
the API reference (Swagger UI, in our own page) among them. axe-core (pinned in
tests/sdk_node, installed by `npm ci --prefix tests/sdk_node`) checks each page against the
WCAG 2.0/2.1 A and AA rules: no serious or critical violation passes; the minor and
moderate ones are printed.
"""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from apps.accounts import demo
from tests.browser.test_console_shell import _sign_in as _sign_in_as
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[1] / "sdk_node" / "node_modules" / "axe-core" / "axe.min.js"
PERSONAS = ("ops.admin", "mei.tanaka", "jonas.berg")

# The WCAG 2.0 and 2.1 A and AA rules; each violation as its rule, impact, help and where.
_RUN_AXE = """
async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " — " + n.failureSummary),
  }));
}
"""

# The menu's pages, in the order the menu lists them.
_MENU_LINKS = """
() => [...document.querySelectorAll("#sidebar-menu a.nav-link")].map((a) => a.pathname)
"""

# The first link in the page's content to a record under this page's path: /tools/ -> /tools/4/.
_FIRST_RECORD_LINK = """
(path) => {
  const links = [...document.querySelectorAll("main a[href]")].map((a) => a.pathname);
  return links.find((href) => href.startsWith(path) && /\\/\\d+\\/$|\\/[0-9a-f-]{36}\\/$/.test(href)
    && href !== path) || null;
}
"""


def _sign_in(page, base: str, local: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", f"{local}@{demo.DEMO_DOMAIN}")
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/")


API_DOCS = "/api/docs/"


def _api_reference_drawn(page) -> None:
    """Wait until Swagger UI has drawn the operations from the schema."""
    page.locator(".opblock").first.wait_for()


def _check(page, label: str, serious: dict[str, list[str]]) -> None:
    """Runs axe-core on the page as it is; adds each serious or critical violation to
    ``serious`` (each element once, with the pages it is on) and prints the others."""
    page.add_script_tag(path=str(AXE))
    for violation in page.evaluate(_RUN_AXE):
        for node in violation["nodes"]:
            line = f"[{violation['impact']}] {violation['id']}: {violation['help']}\n    {node}"
            if violation["impact"] in ("serious", "critical"):
                serious.setdefault(line, []).append(label)
            else:
                print(f"{label}: {line}")


def test_every_demo_page_has_no_serious_accessibility_violation_for_each_persona(
    live_server, browser, settings
):
    # given: the demo, as the embedded console shows it (with its environment badge)
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci --prefix tests/sdk_node`.")
    settings.CONSOLE_ENVIRONMENT_LABEL = "Embedded demo"
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    base = live_server.url
    serious: dict[str, list[str]] = {}
    checked = 0

    for persona in PERSONAS:
        # when: the persona signs in and opens every page of the menu (and, the director, a
        # record of each); the sign-in page is checked once
        context = browser.new_context(viewport={"width": 1366, "height": 860}, bypass_csp=True)
        page = context.new_page()
        try:
            page.goto(f"{base}/login/")
            if persona == PERSONAS[0]:
                _check(page, "/login/", serious)
            _sign_in(page, base, persona)
            pages = list(dict.fromkeys(page.evaluate(_MENU_LINKS)))
            visited = set()
            for path in pages:
                page.goto(f"{base}{path}")
                if path == API_DOCS:
                    _api_reference_drawn(page)
                _check(page, f"{persona} {path}", serious)
                checked += 1
                visited.add(path)
                record = persona == PERSONAS[0] and page.evaluate(_FIRST_RECORD_LINK, path)
                if record and record not in visited:
                    page.goto(f"{base}{record}")
                    _check(page, f"{persona} {urlsplit(record).path}", serious)
                    checked += 1
                    visited.add(record)
        finally:
            context.close()

    # then: every page passed without a serious or critical violation
    assert checked > 20
    assert serious == {}, "\n".join(
        f"{line}\n    on {len(on)} pages: {', '.join(on[:4])}" for line, on in serious.items()
    )


def test_the_first_tab_shows_a_skip_link_that_moves_the_focus_to_the_content(live_server, page):
    # given
    person = AdminFactory()
    _sign_in_as(page, live_server.url, person)
    link = page.get_by_role("link", name="Skip to content")
    assert link.bounding_box()["y"] < 0  # out of sight until it has the focus

    # when
    page.keyboard.press("Tab")

    # then: it is the first thing reached, and in sight
    expect(link).to_be_focused()
    assert link.bounding_box()["y"] >= 0

    # when
    page.keyboard.press("Enter")

    # then: the focus is on the page's content, past the menu
    expect(page.locator("main#main")).to_be_focused()


def test_the_api_reference_has_a_language_a_title_and_no_serious_violation(live_server, browser):
    # given
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci --prefix tests/sdk_node`.")
    context = browser.new_context(viewport={"width": 1366, "height": 860}, bypass_csp=True)
    page = context.new_page()
    serious: dict[str, list[str]] = {}
    try:
        _sign_in_as(page, live_server.url, AdminFactory())

        # when
        page.goto(f"{live_server.url}{API_DOCS}")
        _api_reference_drawn(page)
        _check(page, API_DOCS, serious)

        # then
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.title() == "API reference · MarTech Console"
    finally:
        context.close()
    assert serious == {}, "\n".join(serious)
