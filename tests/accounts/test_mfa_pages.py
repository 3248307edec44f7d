"""Two-step sign-in in the browser and the API: set up and removed from the account page; a
sign-in that owes a code is not a sign-in until the code; wrong codes are throttled with the
passwords; superusers and access administrators must have it; tokens by password take a code."""

import base64
import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from apps.accounts import selectors, services, sso
from apps.accounts.errors import AccountsErrorCode
from apps.audit.models import AuditEvent
from tests.accounts.test_mfa import code_for, enrol
from tests.factories import PASSWORD, AdminFactory, person_with

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
HOME = "198.51.100.20"
CODES = re.compile(r'<li class="col-6 col-md-4">([a-z2-7-]{19})</li>')


def _password(client, email, password=PASSWORD, next_url=None):
    data = {"username": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data)


def _code(client, code):
    return client.post(reverse("accounts:login_code"), {"code": code})


def _setup_key(client) -> str:
    """The secret the set-up page shows, as the key django-otp keeps (hex)."""
    html = client.get(reverse("accounts:mfa_setup")).content.decode()
    secret = re.search(r'value="([A-Z2-7 ]+)" readonly id="totp-secret"', html).group(1)
    raw = secret.replace(" ", "")
    return base64.b32decode(raw + "=" * (-len(raw) % 8)).hex()


# --- Pages: setting it up, using it, removing it ---------------------------------------------


def test_setting_up_from_the_account_page_shows_the_recovery_codes_once(user_client, user):
    # given: the account page offers it; the set-up page shows a QR code and the secret
    page = user_client.get(reverse("accounts:mfa"))
    assert b"Set up an authenticator app" in page.content
    setup = user_client.get(reverse("accounts:mfa_setup"))
    assert setup.status_code == 200
    assert b"<svg" in setup.content
    assert b'aria-label="QR code' in setup.content
    assert "no-store" in setup["Cache-Control"]
    key = _setup_key(user_client)
    # when: a wrong code, then the app's code
    wrong = user_client.post(reverse("accounts:mfa_setup"), {"code": "12345"})
    right = user_client.post(reverse("accounts:mfa_setup"), {"code": code_for(key)})
    # then
    assert wrong.status_code == 400
    assert b"does not match" in wrong.content
    assert right.status_code == 302
    assert right.url == reverse("accounts:mfa")
    shown = user_client.get(reverse("accounts:mfa")).content.decode()
    codes = CODES.findall(shown)
    assert len(codes) == services.RECOVERY_CODE_COUNT
    assert services.mfa_verify(user=user, code=codes[0]) is not None
    again = user_client.get(reverse("accounts:mfa")).content.decode()
    assert CODES.findall(again) == []
    assert f"{services.RECOVERY_CODE_COUNT - 1} of {services.RECOVERY_CODE_COUNT} left" in again
    assert TOTPDevice.objects.get(user=user).key == key


def test_setting_it_up_keeps_the_session_signed_in(user_client, user):
    key = _setup_key(user_client)
    user_client.post(reverse("accounts:mfa_setup"), {"code": code_for(key)})
    assert user_client.get(reverse("dashboard")).status_code == 200
    assert user_client.get("/api/v1/me/").status_code == 200


def _signed_in_with_a_recovery_code(user) -> tuple[Client, str, list[str]]:
    """A session signed in with the password and the first recovery code (so the app's next
    code is still unused); the app's key and the codes left."""
    key, codes = enrol(user)
    client = Client()
    _password(client, user.email)
    assert _code(client, codes[0]).status_code == 302
    return client, key, codes[1:]


def test_removing_from_the_account_page_needs_a_code(user):
    # given
    user_client, key, _ = _signed_in_with_a_recovery_code(user)
    # when
    wrong = user_client.post(reverse("accounts:mfa_remove"), {"remove-code": "000000"})
    right = user_client.post(reverse("accounts:mfa_remove"), {"remove-code": code_for(key, 1)})
    # then
    assert wrong.status_code == 400
    assert b"not right" in wrong.content
    assert right.status_code == 302
    assert not selectors.mfa_enrolled(user=user)
    wrong_attempt = AuditEvent.objects.get(action="accounts.user.login_failed")
    assert wrong_attempt.metadata == {"username": user.email, "second_factor": True}
    assert user_client.get(reverse("dashboard")).status_code == 200


def test_new_recovery_codes_from_the_account_page_are_shown_once(user):
    user_client, key, old = _signed_in_with_a_recovery_code(user)
    response = user_client.post(
        reverse("accounts:mfa_recovery_codes"), {"regenerate-code": code_for(key, 1)}
    )
    assert response.status_code == 302
    new = CODES.findall(user_client.get(reverse("accounts:mfa")).content.decode())
    assert len(new) == services.RECOVERY_CODE_COUNT
    assert not set(new) & set(old)


def test_changing_it_without_having_it_is_a_conflict(user_client):
    response = user_client.post(reverse("accounts:mfa_remove"), {"remove-code": "123456"})
    assert response.status_code == 409


# --- Signing in -----------------------------------------------------------------------------


def test_a_sign_in_that_owes_a_code_is_not_a_sign_in_until_the_code(client, user):
    # given
    key, _ = enrol(user)
    # when: the right password
    response = _password(client, user.email, next_url=reverse("tools:tool_list"))
    # then: the code is asked for, and nothing else answers as signed in meanwhile
    assert response.status_code == 302
    assert response.url == reverse("accounts:login_code")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("dashboard")).url.startswith(reverse("accounts:login"))
    assert client.get("/api/v1/me/").status_code in (401, 403)
    assert client.get(reverse("accounts:mfa")).url.startswith(reverse("accounts:login"))
    assert not AuditEvent.objects.filter(action="accounts.user.logged_in").exists()
    # when: the app's code
    signed_in = _code(client, code_for(key, 1))
    # then: signed in, on to where they were going
    assert signed_in.status_code == 302
    assert signed_in.url == reverse("tools:tool_list")
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get("/api/v1/me/").json()["email"] == user.email
    event = AuditEvent.objects.get(action="accounts.user.logged_in")
    assert event.metadata == {"second_factor": "authenticator_app"}


def test_a_wrong_code_keeps_the_sign_in_waiting(client, user):
    enrol(user)
    _password(client, user.email)
    response = _code(client, "000000")
    assert response.status_code == 400
    assert b"not right" in response.content
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_signs_in_once(user):
    # given
    _, codes = enrol(user)
    first, second = Client(), Client()
    # when
    _password(first, user.email)
    used = _code(first, codes[3])
    _password(second, user.email)
    again = _code(second, codes[3])
    # then
    assert used.status_code == 302
    assert first.get(reverse("dashboard")).status_code == 200
    assert again.status_code == 400
    assert "_auth_user_id" not in second.session
    event = AuditEvent.objects.get(action="accounts.user.logged_in")
    assert event.metadata == {"second_factor": "recovery_code"}


def test_someone_without_a_second_factor_signs_in_with_the_password_alone(client, user):
    response = _password(client, user.email)
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


def test_wrong_codes_are_throttled_with_the_passwords(settings, user):
    # given: a limit of three failures; one wrong password, then the right one
    settings.AXES_FAILURE_LIMIT = 3
    key, _ = enrol(user)
    guesser = Client(REMOTE_ADDR=ATTACKER)
    _password(guesser, user.email, "guess")
    _password(guesser, user.email)
    # when: two wrong codes
    answers = [_code(guesser, "000000").status_code, _code(guesser, "111111").status_code]
    # then: the second reaches the limit; the right code and the password are refused too
    assert answers == [400, 429]
    assert _code(guesser, code_for(key, 1)).status_code == 429
    assert _password(guesser, user.email).status_code == 429
    assert "_auth_user_id" not in guesser.session
    # and the owner, from their own address, still signs in
    owner = Client(REMOTE_ADDR=HOME)
    _password(owner, user.email)
    assert _code(owner, code_for(key, 1)).status_code == 302


def test_the_right_password_alone_does_not_clear_the_failed_codes(settings, user):
    # given
    settings.AXES_FAILURE_LIMIT = 3
    enrol(user)
    guesser = Client(REMOTE_ADDR=ATTACKER)
    _password(guesser, user.email)
    _code(guesser, "000000")
    _code(guesser, "111111")
    # when: the password again (which would clear the failures if it signed in)
    _password(guesser, user.email)
    # then: the next wrong code is the third failure
    assert _code(guesser, "222222").status_code == 429


def test_a_waiting_sign_in_expires(client, user):
    key, _ = enrol(user)
    _password(client, user.email)
    with time_machine.travel(dt.timedelta(minutes=11)):
        response = _code(client, code_for(key, 1))
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_the_code_page_sends_a_visitor_with_no_sign_in_waiting_to_sign_in(client):
    response = client.get(reverse("accounts:login_code"))
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")


# --- Required for superusers and access administrators ----------------------------------------


def test_an_access_administrator_without_a_second_factor_sets_one_up_to_sign_in(settings):
    # given
    settings.MARTECH_MFA_REQUIRED = True
    dana = person_with(AdminFactory(), "accounts.manage_access", name="Dana Whitfield")
    client = Client()
    # when: the right password
    response = _password(client, dana.email, next_url=reverse("accounts:user_list"))
    # then: to the set-up page, signed out; nothing else works
    assert response.status_code == 302
    assert response.url == reverse("accounts:mfa_setup")
    assert client.get(reverse("accounts:user_list")).url.startswith(reverse("accounts:login"))
    setup = client.get(reverse("accounts:mfa_setup"))
    assert setup.status_code == 200
    assert b"needs a second factor" in setup.content
    # when: the new app's code
    key = _setup_key(client)
    done = client.post(reverse("accounts:mfa_setup"), {"code": code_for(key)})
    # then: signed in, shown the recovery codes with the way on
    assert done.status_code == 302
    assert done.url == reverse("accounts:mfa")
    page = client.get(reverse("accounts:mfa")).content.decode()
    assert len(CODES.findall(page)) == services.RECOVERY_CODE_COUNT
    assert f'href="{reverse("accounts:user_list")}"' in page
    assert client.get(reverse("accounts:user_list")).status_code == 200
    assert "cannot be removed" in page


def test_a_superuser_session_without_its_second_factor_reaches_only_the_set_up(
    settings, admin, admin_client, admin_api
):
    # given: a session signed in before the second factor was required
    settings.MARTECH_MFA_REQUIRED = True
    # when / then: pages go to the set-up, the session's API use is refused
    page = admin_client.get(reverse("tools:tool_list"))
    assert page.status_code == 302
    assert page.url.startswith(reverse("accounts:mfa_setup"))
    api = admin_client.get("/api/v1/me/")
    assert api.status_code == 401
    assert api.json()["code"] == AccountsErrorCode.SECOND_FACTOR_REQUIRED
    assert admin_client.get(reverse("accounts:mfa_setup")).status_code == 200
    # and an API token, a credential of its own, still works
    assert admin_api.get("/api/v1/me/").status_code == 200


def test_a_session_of_someone_who_set_it_up_elsewhere_is_asked_for_the_code(user):
    # given: a session signed in without a code; then the person sets it up in another
    session = Client()
    session.force_login(user)
    assert session.get(reverse("dashboard")).status_code == 200
    key, _ = enrol(user)
    # when: the session's next request, after the recheck interval
    with time_machine.travel(dt.timedelta(minutes=2)):
        held = session.get(reverse("dashboard"))
        code = session.post(reverse("accounts:login_code"), {"code": code_for(key, 1)})
        after = session.get(reverse("dashboard"))
    # then
    assert held.status_code == 302
    assert held.url.startswith(reverse("accounts:login_code"))
    assert code.status_code == 302
    assert after.status_code == 200


# --- API tokens ---------------------------------------------------------------------------------


def _token(body, address=HOME):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token/", {"name": "CI", **body}, format="json"
    )


def test_a_token_for_someone_with_a_second_factor_takes_a_code(user):
    key, _ = enrol(user)
    without = _token({"email": user.email, "password": PASSWORD})
    wrong = _token({"email": user.email, "password": PASSWORD, "code": "000000"})
    right = _token({"email": user.email, "password": PASSWORD, "code": code_for(key, 1)})
    assert without.status_code == 401
    assert without.json()["code"] == AccountsErrorCode.SECOND_FACTOR_REQUIRED
    assert wrong.status_code == 401
    assert wrong.json()["code"] == AccountsErrorCode.INVALID_MFA_CODE
    assert right.status_code == 201
    assert APIClient().get(
        "/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {right.json()['token']}"
    ).json()["email"] == (user.email)


def test_no_token_for_someone_who_must_set_up_a_second_factor_first(settings):
    settings.MARTECH_MFA_REQUIRED = True
    admin = AdminFactory()
    response = _token({"email": admin.email, "password": PASSWORD})
    assert response.status_code == 403
    assert response.json()["code"] == AccountsErrorCode.MFA_ENROLMENT_REQUIRED


def test_wrong_codes_for_a_token_lock_like_wrong_passwords(settings, user):
    settings.AXES_FAILURE_LIMIT = 2
    key, _ = enrol(user)
    body = {"email": user.email, "password": PASSWORD}
    answers = [_token({**body, "code": "000000"}, ATTACKER).status_code for _ in range(2)]
    assert answers == [401, 429]
    assert _token({**body, "code": code_for(key, 1)}, ATTACKER).status_code == 429


def test_a_single_sign_on_session_is_not_held_for_a_code(settings):
    # given: two administrators, one signed in through the identity provider (whose second
    # factor is the provider's), one with a password
    settings.MARTECH_MFA_REQUIRED = True
    by_provider, by_password = Client(), Client()
    by_provider.force_login(AdminFactory(), backend=sso.BACKEND)
    by_password.force_login(AdminFactory(), backend="apps.accounts.backends.CapabilityBackend")
    # when / then
    assert by_provider.get(reverse("dashboard")).status_code == 200
    assert by_password.get(reverse("dashboard")).status_code == 302
