"""Dana turns on two-step sign-in from her account menu with an authenticator app, keeps her
recovery codes, and signs in again with her password and the app's code; an operations
director whose access requires a second factor sets one up before anything else opens.
Each page passes axe-core's WCAG 2.1 AA rules."""

import base64
import time

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from apps.access import demo as access_demo
from apps.accounts import demo
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_accessibility import AXE, _check

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DANA = f"dana.whitfield@{demo.DEMO_DOMAIN}"


def _app_code(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app given ``secret`` (as the page shows it) displays."""
    raw = secret.replace(" ", "")
    totp = TOTP(base64.b32decode(raw + "=" * (-len(raw) % 8)))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def _password(page, base, email):
    page.goto(f"{base}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")


@pytest.fixture
def axe_page(browser):
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci --prefix tests/sdk_node`.")
    context = browser.new_context(viewport={"width": 1366, "height": 860}, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_dana_turns_on_two_step_sign_in_and_signs_in_again_with_the_apps_code(
    live_server, axe_page
):
    page, base = axe_page, live_server.url
    demo.load()
    access_demo.load()
    serious: dict[str, list[str]] = {}

    # given: Dana signs in with her password alone and opens two-step sign-in from her menu
    _password(page, base, DANA)
    expect(page).to_have_url(f"{base}/")
    page.locator("[data-bs-toggle=dropdown]").filter(has_text="Dana").click()
    page.get_by_role("link", name="Two-step sign-in").click()
    expect(page.get_by_role("heading", name="Two-step sign-in", level=1)).to_be_visible()
    expect(page.locator(".badge").filter(has_text="Off")).to_be_visible()
    _check(page, "/account/two-step/", serious)

    # when: she scans the QR code (here: reads the secret) and confirms with the app's code
    page.get_by_role("link", name="Set up an authenticator app").click()
    expect(page.get_by_role("img", name="QR code of the secret")).to_be_visible()
    _check(page, "/account/two-step/setup/", serious)
    _screenshot(page, "mfa-setup")
    secret = page.locator("#totp-secret").input_value()
    page.fill("#id_code", "000000" if _app_code(secret) != "000000" else "111111")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("does not match")
    page.fill("#id_code", _app_code(secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()

    # then: it is on, and her ten recovery codes are shown this once
    expect(page).to_have_url(f"{base}/account/two-step/")
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    expect(page.locator(".badge").filter(has_text="On")).to_be_visible()
    expect(page.locator("#recovery-codes-left")).to_have_text("10 of 10 left")
    _screenshot(page, "mfa-recovery-codes")
    _check(page, "/account/two-step/ (codes shown)", serious)
    page.reload()
    expect(page.locator("#recovery-codes")).to_have_count(0)

    # when: she signs out and in again
    page.locator("[data-bs-toggle=dropdown]").filter(has_text="Dana").click()
    page.get_by_role("button", name="Sign out").click()
    _password(page, base, DANA)

    # then: the code is asked for, and nothing opens before it
    expect(page).to_have_url(f"{base}/login/code/")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    _screenshot(page, "mfa-sign-in-code")
    _check(page, "/login/code/", serious)
    page.goto(f"{base}/tools/")
    expect(page).to_have_url(f"{base}/login/?next=/tools/")
    page.goto(f"{base}/login/code/")
    page.get_by_label("Code").fill(_app_code(secret, 1))
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("heading", name="Good to see you, Dana")).to_be_visible()
    assert serious == {}, "\n".join(f"{line}\n    on {on}" for line, on in serious.items())


def test_a_director_whose_access_requires_it_sets_it_up_before_anything_opens(
    live_server, axe_page, settings
):
    page, base = axe_page, live_server.url
    settings.MARTECH_MFA_REQUIRED = True
    demo.load()
    serious: dict[str, list[str]] = {}

    # when: the superuser of the demo gives the right password, on the way to the tools
    page.goto(f"{base}/tools/")
    page.fill("#id_username", demo.DEMO_ADMIN_EMAIL)
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")

    # then: setting up the app comes first; the tools do not open
    expect(page).to_have_url(f"{base}/account/two-step/setup/")
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    _check(page, "/account/two-step/setup/ (signing in)", serious)
    _screenshot(page, "mfa-setup-signing-in")
    page.goto(f"{base}/tools/")
    expect(page).to_have_url(f"{base}/login/?next=/tools/")

    # when: the app is confirmed
    page.goto(f"{base}/account/two-step/setup/")
    secret = page.locator("#totp-secret").input_value()
    page.fill("#id_code", _app_code(secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()

    # then: signed in, the codes shown, and the way on to the tools
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(
        10
    )
    expect(page.get_by_text("cannot be removed")).to_be_visible()
    page.get_by_role("link", name="I saved them, continue").click()
    expect(page).to_have_url(f"{base}/tools/")
    assert serious == {}, "\n".join(f"{line}\n    on {on}" for line, on in serious.items())
