"""Single sign-on with OpenID Connect, against a real provider on loopback (oidc-provider).

The console side runs in the test client; the provider is a real server, reached by the
console's backend (token, JWKS, userinfo) through the egress policy and by the test's HTTP
client (its sign-in and consent pages) as a browser would.
"""

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import User
from apps.audit.models import AuditEvent
from martech.common.logging import redact
from tests.factories import PASSWORD, UserFactory

from .oidc_provider import running_provider, sign_in_at_provider

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PROVIDER = "Acme Okta"


@pytest.fixture(scope="module")
def provider():
    with running_provider(["http://testserver/login/sso/callback/"]) as running:
        yield running


@pytest.fixture
def sso(settings, provider):
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = provider.client_secret
    settings.OIDC_PROVIDER_NAME = PROVIDER
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.OIDC_CREATE_USER = False
    settings.OIDC_GROUP_TEAMS = {"Marketing Ops": "Marketing Operations", "Growth": "Growth"}
    return provider


def _start(client, **query):
    start = client.get(reverse("accounts:sso_start"), query)
    assert start.status_code == 302, start.status_code
    return start.url


def _sso_sign_in(client, login, **query):
    callback = sign_in_at_provider(_start(client, **query), login)
    return client.get(callback)


def _refusal(response, client):
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert SESSION_KEY not in client.session
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def _refused_event(reason):
    return AuditEvent.objects.get(action="accounts.user.sso_refused", metadata__reason=reason)


def test_sign_in_page_offers_the_provider_only_when_single_sign_on_is_configured(
    client, settings, provider
):
    assert "Sign in with" not in client.get(reverse("accounts:login")).content.decode()
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = provider.client_secret
    settings.OIDC_PROVIDER_NAME = PROVIDER
    assert f"Sign in with {PROVIDER}" in client.get(reverse("accounts:login")).content.decode()


def test_sso_pages_answer_404_while_single_sign_on_is_not_configured(client):
    assert client.get(reverse("accounts:sso_start")).status_code == 404
    assert client.get(reverse("accounts:sso_callback"), {"code": "x"}).status_code == 404


def test_sso_start_sends_state_nonce_and_an_s256_pkce_challenge(client, sso):
    query = parse_qs(urlsplit(_start(client)).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [sso.client_id]
    assert query["redirect_uri"] == ["http://testserver/login/sso/callback/"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32
    assert "client_secret" not in query


def test_sso_signs_in_the_person_with_the_verified_email_case_insensitively_and_audits_it(
    client, sso
):
    # given
    dana = UserFactory(email="dana.whitfield@acme.example")
    # when: the provider says Dana.Whitfield@Acme.Example, verified
    response = _sso_sign_in(client, "dana", next="/people/")
    # then
    assert response.status_code == 302
    assert response.url == "/people/"
    assert int(client.session[SESSION_KEY]) == dana.pk
    assert client.get(reverse("dashboard")).status_code == 200
    event = AuditEvent.objects.get(action="accounts.user.logged_in")
    assert event.actor == dana
    assert event.metadata == {"method": "sso", "provider": PROVIDER}
    assert not AuditEvent.objects.filter(action="accounts.user.sso_refused").exists()


def test_sso_answer_with_a_state_this_browser_was_not_given_is_refused(client, sso):
    # given: a real answer from the provider, its state replaced
    UserFactory(email="dana.whitfield@acme.example")
    callback = urlsplit(sign_in_at_provider(_start(client), "dana"))
    query = {k: v[0] for k, v in parse_qs(callback.query).items()}
    query["state"] = "forged-" + query["state"]
    # when
    response = client.get(urlunsplit(callback._replace(query=urlencode(query))))
    # then
    assert "does not belong to a sign-in started in this browser" in _refusal(response, client)
    assert _refused_event("sso_state_mismatch").metadata["provider"] == PROVIDER


def test_sso_answer_is_used_once_a_replayed_callback_is_refused(client, sso):
    UserFactory(email="dana.whitfield@acme.example")
    callback = sign_in_at_provider(_start(client), "dana")
    assert client.get(callback).url == reverse("dashboard")
    client.logout()
    # when: the same answer again
    response = client.get(callback)
    # then
    assert "Start the sign-in again" in _refusal(response, client)


def test_sso_refuses_an_email_the_provider_does_not_say_is_verified(client, sso):
    # given: a person with that email exists
    UserFactory(email="unverified@acme.example")
    # when
    response = _sso_sign_in(client, "unverified")
    # then
    assert "does not say that unverified@acme.example is verified" in _refusal(response, client)
    assert _refused_event("sso_email_unverified").metadata["email"] == "unverified@acme.example"


def test_sso_creates_nobody_when_the_provider_is_not_authoritative(client, sso):
    response = _sso_sign_in(client, "new-hire")
    assert "No console account uses new.hire@acme.example" in _refusal(response, client)
    assert not User.objects.filter(email="new.hire@acme.example").exists()
    assert _refused_event("sso_unknown_person")


def test_authoritative_sso_creates_the_person_just_in_time_named_and_teamed_from_claims(
    client, sso, settings
):
    # given
    settings.OIDC_CREATE_USER = True
    # when: Nia is in Everyone, Growth and Marketing Ops; the mapping lists Marketing Ops first
    response = _sso_sign_in(client, "new-hire")
    # then
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    person = User.objects.get(email="new.hire@acme.example")
    assert int(client.session[SESSION_KEY]) == person.pk
    assert person.full_name == "Nia Newcomer"
    assert person.team == "Marketing Operations"
    assert not person.has_usable_password()
    created = AuditEvent.objects.get(action="accounts.user.created", target_id=str(person.pk))
    assert created.metadata == {"method": "sso", "provider": PROVIDER}
    assert created.changes["team"]["after"] == "Marketing Operations"
    logged_in = AuditEvent.objects.get(action="accounts.user.logged_in")
    assert logged_in.metadata["provider"] == PROVIDER


def test_authoritative_sso_maps_groups_in_the_mappings_order(client, sso, settings):
    settings.OIDC_CREATE_USER = True
    settings.OIDC_GROUP_TEAMS = {"Growth": "Growth", "Marketing Ops": "Marketing Operations"}
    _sso_sign_in(client, "new-hire")
    assert User.objects.get(email="new.hire@acme.example").team == "Growth"


def test_authoritative_sso_leaves_the_team_empty_when_no_group_is_mapped(client, sso, settings):
    settings.OIDC_CREATE_USER = True
    settings.OIDC_GROUP_TEAMS = {"Finance": "Finance"}
    _sso_sign_in(client, "new-hire")
    assert User.objects.get(email="new.hire@acme.example").team == ""


def test_sso_refuses_a_deactivated_person_with_a_clear_message(client, sso, admin):
    # given
    gone = UserFactory(email="gone@acme.example")
    services.user_set_active(user=gone, active=False, actor=admin)
    # when
    response = _sso_sign_in(client, "gone")
    # then
    assert "gone@acme.example is deactivated" in _refusal(response, client)
    assert _refused_event("inactive_user").target_id == str(gone.pk)


def test_sso_with_a_client_secret_the_provider_rejects_is_refused_without_showing_it(
    client, sso, settings
):
    UserFactory(email="dana.whitfield@acme.example")
    settings.OIDC_RP_CLIENT_SECRET = "wrong-secret-never-shown-4242"
    response = _sso_sign_in(client, "dana")
    message = _refusal(response, client)
    assert "did not accept the sign-in" in message
    assert "wrong-secret" not in message
    event = _refused_event("sso_invalid_token")
    assert "wrong-secret" not in str(event.metadata)


def test_sso_refuses_an_id_token_signed_with_another_algorithm_than_configured(
    client, sso, settings
):
    # the provider signs with RS256; the console expects ES256
    UserFactory(email="dana.whitfield@acme.example")
    settings.OIDC_RP_SIGN_ALGO = "ES256"
    response = _sso_sign_in(client, "dana")
    assert "could not be verified" in _refusal(response, client)
    assert _refused_event("sso_invalid_token")


def test_sso_takes_the_discovery_documents_url_as_the_issuer_setting(client, sso, settings):
    dana = UserFactory(email="dana.whitfield@acme.example")
    settings.OIDC_ISSUER = f"{sso.issuer}/.well-known/openid-configuration"
    assert _sso_sign_in(client, "dana").url == reverse("dashboard")
    assert int(client.session[SESSION_KEY]) == dana.pk


def test_sso_provider_on_an_address_the_egress_policy_refuses_is_never_contacted(
    client, sso, settings
):
    settings.MARTECH_EGRESS_ALLOW = []
    start = client.get(reverse("accounts:sso_start"))
    assert start.url == reverse("accounts:login")
    message = " ".join(str(m) for m in get_messages(start.wsgi_request))
    assert "could not be reached" in message
    assert "loopback" in message
    assert _refused_event("sso_provider_unavailable")


def test_sso_cancelled_at_the_provider_is_refused_with_its_reason(client, sso):
    state = parse_qs(urlsplit(_start(client)).query)["state"][0]
    response = client.get(
        reverse("accounts:sso_callback"), {"error": "access_denied", "state": state}
    )
    assert "cancelled or refused there" in _refusal(response, client)


# -- SSO required ---------------------------------------------------------------------------


@pytest.fixture
def sso_required(sso, settings):
    settings.SSO_REQUIRED = True
    settings.SSO_BREAK_GLASS = ["Break.Glass@acme.example"]
    return sso


def _password_sign_in(client, email):
    return client.post(reverse("accounts:login"), {"username": email, "password": PASSWORD})


def test_sso_required_refuses_password_sign_in_and_the_form_says_so(client, sso_required, user):
    page = client.get(reverse("accounts:login")).content.decode()
    assert "Password sign-in is turned off" in page
    response = _password_sign_in(client, user.email)
    assert response.status_code == 200
    assert f"Password sign-in is turned off: sign in with {PROVIDER}" in response.content.decode()
    assert SESSION_KEY not in client.session
    # Not a failed password: nothing counts towards a lockout.
    assert not AuditEvent.objects.filter(action="accounts.user.login_failed").exists()


def test_sso_required_still_lets_a_break_glass_account_sign_in_with_its_password(
    client, sso_required
):
    keeper = UserFactory(email="break.glass@acme.example")
    response = _password_sign_in(client, "BREAK.GLASS@acme.example")
    assert response.status_code == 302
    assert int(client.session[SESSION_KEY]) == keeper.pk


def test_sso_required_still_signs_people_in_through_the_provider(client, sso_required):
    dana = UserFactory(email="dana.whitfield@acme.example")
    assert _sso_sign_in(client, "dana").url == reverse("dashboard")
    assert int(client.session[SESSION_KEY]) == dana.pk


def test_sso_required_leaves_api_tokens_working_and_refuses_the_password_exchange(
    sso_required, user
):
    # given: a token made before
    _token, raw = services.api_token_create(user=user, name="CI", days=7)
    api = APIClient()
    # then: the token still authenticates
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/me/").status_code == 200
    # and a new token for a password is refused, except for a break-glass account
    body = {"email": user.email, "password": PASSWORD, "name": "laptop"}
    refused = APIClient().post("/api/v1/auth/token/", body, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "sso_required"
    UserFactory(email="break.glass@acme.example")
    body = {"email": "break.glass@acme.example", "password": PASSWORD, "name": "laptop"}
    assert APIClient().post("/api/v1/auth/token/", body, format="json").status_code == 201


def test_the_callbacks_authorization_code_never_reaches_a_log_line():
    line = "GET /login/sso/callback/?code=Zx9-authorization-code&state=abc 302"
    assert "Zx9-authorization-code" not in redact(line)
