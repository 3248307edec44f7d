"""Jonas, twelve days into the job, reads “My access” in the browser: what he holds comes
first, in words; what he asked for says who it waits for; the bell shows, legibly, that his
manager answered."""

from importlib import import_module

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.access import demo as access_demo
from apps.access import services as svc
from apps.access.models import ReviewCampaign
from apps.accounts import demo
from apps.accounts.models import User
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The apps whose demo gives the demo roles their capabilities.
DEMO_APPS = ("tools", "intake", "schemas", "consent", "identity", "destinations", "events")
DEMO_APPS += ("syncs", "erasure")

# WCAG 2 contrast of two sRGB colours given as [r, g, b] bytes, in the page itself.
CONTRAST = """([fg, bg]) => {
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => v / 255).map(v =>
      v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""

# The colour a computed style resolves to, as sRGB bytes (whatever notation it uses).
SRGB = """(colour) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, 1, 1);
  context.fillStyle = colour;
  context.fillRect(0, 0, 1, 1);
  return Array.from(context.getImageData(0, 0, 1, 1).data).slice(0, 3);
}"""


def _sign_in(page, base, email):
    page.goto(f"{base}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/")


def test_jonas_reads_my_access_held_first_requests_waiting_and_a_legible_count(live_server, page):
    # given: the demo organisation; Jonas's manager Sam turns down one of his two requests
    demo.load()
    access_demo.load()
    admin = User.objects.get(email=demo.DEMO_ADMIN_EMAIL)
    for app in DEMO_APPS:
        access_demo.grant_demo_capabilities(admin, import_module(f"apps.{app}.demo").ACCESS)
    jonas = User.objects.get(email=f"jonas.berg@{demo.DEMO_DOMAIN}")
    sam = User.objects.get(email=f"sam.okafor@{demo.DEMO_DOMAIN}")
    refused = svc.access_request_create(
        requester=jonas,
        capability="accounts.view_access",
        duration_days=7,
        justification="Seeing who on the team can send to production lists.",
    )
    svc.access_request_reject(actor=sam, request=refused, note="Ask me; I can tell you.")

    # when
    _sign_in(page, live_server.url, jonas.email)
    page.goto(f"{live_server.url}/access/me/")

    # then: what he holds comes first, by name
    groups = page.locator("tbody[data-group]")
    expect(groups.first).to_have_attribute("data-group", "held")
    expect(groups.first).to_contain_text("See the tool registry")
    # the audit log waits for his tenure, and for Sam, whom his pending request names
    audit = page.locator("tr[data-capability='audit.view']")
    expect(audit).to_contain_text("upcoming")
    expect(audit).to_contain_text("waiting for Sam Okafor")
    expect(audit.get_by_role("link", name="Request it")).to_have_count(0)
    # what another role gives says which one, for him
    view_access = page.locator("tr[data-capability='accounts.view_access']")
    expect(view_access).to_contain_text("None of your roles gives it; the")
    expect(view_access.get_by_role("link", name="Request it")).to_be_visible()

    # and the bell's count is inside the bar and legible
    badge = page.locator("#unread-count")
    expect(badge).to_have_text("1")
    box = badge.bounding_box()
    bar = page.locator("header.console-topbar").bounding_box()
    assert box["y"] >= bar["y"]
    assert box["y"] + box["height"] <= bar["y"] + bar["height"]
    style = badge.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    fg, bg = (page.evaluate(SRGB, colour) for colour in style)
    ratio = page.evaluate(CONTRAST, [fg, bg])
    assert ratio >= 4.5, (style, fg, bg, ratio)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "my-access-jonas.png"), full_page=True)
    assert page.console_errors == []

    # and the notification says what became of the request
    page.locator("#unread-count").click()
    expect(page.get_by_text("was rejected by Sam Okafor")).to_be_visible()


def test_dana_revokes_leos_audit_log_in_the_review_and_his_page_says_so(live_server, page):
    # given: the demo's quarterly review, where Dana reviews Leo's Marketing Operations role
    # for audit.view
    demo.load()
    access_demo.load()
    leo = User.objects.get(email=f"leo.martins@{demo.DEMO_DOMAIN}")
    dana = User.objects.get(email=f"dana.whitfield@{demo.DEMO_DOMAIN}")
    campaign = ReviewCampaign.objects.get()
    _sign_in(page, live_server.url, dana.email)
    page.goto(f"{live_server.url}/access/reviews/{campaign.pk}/")
    row = page.get_by_role("row").filter(has_text="Leo Martins")
    expect(row).to_contain_text("revoking keeps the rest of the role")

    # when: she revokes, and confirms what the dialog says he loses
    row.get_by_role("button", name="Revoke").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("the rest of the Marketing Operations role stays")
    dialog.get_by_role("button", name="Revoke").click()

    # then: the message names what went, and that the role stays
    expect(
        page.get_by_text(
            "Leo Martins's “Read the audit log” (audit.view): revoked; the rest of the "
            "Marketing Operations role stays."
        )
    ).to_be_visible()
    # and his page gives the true reason
    page.goto(f"{live_server.url}/people/{leo.pk}/")
    audit = page.locator("tr[data-capability='audit.view']")
    expect(audit).to_contain_text("revoked")
    expect(audit).to_contain_text(
        "Revoked in the access review “Q4 2026 access review” by Dana Whitfield on "
        f"{timezone.localdate():%Y-%m-%d}"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "person-leo-after-review.png"), full_page=True)
    assert page.console_errors == []
