"""A privacy officer finds a person by email, sees why each purpose is allowed, records a
withdrawal, and confirms a link waiting for review."""

import pytest
from playwright.sync_api import expect

from apps.consent import services as consent
from apps.consent.defaults import ensure_default_purposes
from apps.identity import services as identity
from apps.identity.normalise import Ident
from apps.identity.selectors import profile_resolve
from tests.browser.test_console_shell import _sign_in
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_consent_lookup_follows_identity_and_records_a_withdrawal(live_server, page, screenshot):
    # given: a cookie's banner choice, later tied to an email by an identify call
    ensure_default_purposes()
    officer = AdminFactory(full_name="Fatima Haddad")
    cookie, email = ("anonymous_id", "ajs-5f1c9e2a"), ("email", "lena.fischer@example.de")
    consent.consent_record(
        subject=cookie, purpose="analytics", granted=True, source="banner", jurisdiction="gdpr"
    )
    consent.consent_record(
        subject=email, purpose="email_marketing", granted=True, source="form", jurisdiction="gdpr"
    )
    identity.link_record(a=cookie, b=email, rule="identify")
    pending = identity.link_record(
        a=cookie,
        b=("anonymous_id", "ajs-c4410e8d"),
        rule="ip_user_agent",
        kind="probabilistic",
        confidence=0.74,
    )
    base = live_server.url

    # when: she looks up the email
    _sign_in(page, base, officer)
    page.goto(f"{base}/consent/")
    page.get_by_label("Identifier").fill("email:Lena.Fischer@example.de")
    page.get_by_role("button", name="Look up").click()
    analytics = page.locator("tr[data-purpose=analytics]").first
    expect(analytics).to_contain_text("Granted")
    expect(analytics).to_contain_text("under anonymous_id:ajs-5f1c9e2a")
    # and records that Lena withdrew email marketing
    form = page.locator("form[action='/consent/record/']")
    form.get_by_label("Purpose").select_option("email_marketing")
    form.get_by_label("Granted").select_option("false")
    form.get_by_role("button", name="Record").click()
    expect(page.get_by_text("Recorded: Email marketing denied")).to_be_visible()
    expect(page.locator("tr[data-purpose=email_marketing]").first).to_contain_text("Denied")
    screenshot("consent-lookup")

    # then: the review queue confirms the look-alike visitor into her profile
    page.goto(f"{base}/profiles/review/")
    page.locator(f"tr[data-link='{pending.pk}']").get_by_role("button", name="Confirm").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm the link").click()
    expect(page.get_by_text("confirmed.")).to_be_visible()
    profile = profile_resolve(Ident(*email))
    page.goto(f"{base}/profiles/{profile.pk}/")
    expect(page.get_by_test_id("state")).to_have_text("Transitioning")
    expect(page.locator("#consent")).to_contain_text("Denied")
    screenshot("profile")
    assert profile_resolve(Ident("anonymous_id", "ajs-c4410e8d")) == profile
    assert page.console_errors == []
