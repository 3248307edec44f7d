"""A person signs in through single sign-on: the console, the provider's pages, and back."""

import pytest
from playwright.sync_api import expect

from apps.audit.models import AuditEvent
from tests.accounts.oidc_provider import running_provider
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_sign_in_with_the_provider_through_its_pages_reaches_the_console(
    live_server, page, screenshot, settings
):
    # given: a provider on loopback with the console's callback registered
    dana = UserFactory(email="dana.whitfield@acme.example", full_name="Dana Whitfield")
    with running_provider([f"{live_server.url}/login/sso/callback/"]) as provider:
        settings.OIDC_ISSUER = provider.issuer
        settings.OIDC_RP_CLIENT_ID = provider.client_id
        settings.OIDC_RP_CLIENT_SECRET = provider.client_secret
        settings.OIDC_PROVIDER_NAME = "Acme Okta"
        settings.OIDC_RP_SCOPES = "openid email profile groups"

        # when: the sign-in page offers the provider, and the person takes it
        page.goto(f"{live_server.url}/people/")
        expect(page).to_have_url(f"{live_server.url}/login/?next=/people/")
        screenshot("sso-sign-in")
        assert page.console_errors == []
        page.get_by_role("link", name="Sign in with Acme Okta").click()

        # the provider's own sign-in and consent pages (they ask the internet for a font: their
        # console errors are not the console's)
        page.wait_for_url(f"{provider.issuer}/interaction/**")
        page.fill("input[name=login]", "dana")
        page.fill("input[name=password]", "any")
        page.click("button[type=submit]")
        page.wait_for_selector("input[name=prompt][value=consent]", state="attached")
        page.click("button[type=submit]")

        # then: back in the console, signed in, on the page asked for
        page.wait_for_url(f"{live_server.url}/people/")
        expect(page.get_by_role("heading", name="People", level=1)).to_be_visible()
        screenshot("sso-signed-in")
        page.console_errors.clear()
        page.reload()
        expect(page.get_by_role("heading", name="People", level=1)).to_be_visible()
        assert page.console_errors == []
    event = AuditEvent.objects.get(action="accounts.user.logged_in")
    assert event.actor == dana
    assert event.metadata == {"method": "sso", "provider": "Acme Okta"}
