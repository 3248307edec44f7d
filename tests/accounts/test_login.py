"""Sign-in, sign-out, password change and login throttling in the browser."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _login(client, email, password):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_login_with_email_and_password_reaches_dashboard_and_is_audited(client, user):
    # when
    response = _login(client, user.email, PASSWORD)
    # then
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    event = AuditEvent.objects.get(action="accounts.user.logged_in")
    assert event.actor == user
    assert event.request_id
    assert event.ip_address == "127.0.0.1"


def test_login_is_case_insensitive_on_email(client, user):
    response = _login(client, user.email.upper(), PASSWORD)
    assert response.status_code == 302


def test_wrong_password_shows_form_error_and_audits_the_failure(client, user):
    response = _login(client, user.email, "wrong-password")
    assert response.status_code == 200
    assert b"do not match an active account" in response.content
    failed = AuditEvent.objects.get(action="accounts.user.login_failed")
    assert failed.actor is None
    assert failed.metadata == {"username": user.email}


def test_inactive_person_cannot_sign_in(client):
    person = UserFactory(is_active=False)
    response = _login(client, person.email, PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_pages_redirect_anonymous_visitors_to_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_repeated_failures_lock_the_account_on_the_login_page(client, user, settings):
    # given
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        _login(client, user.email, "wrong-password")
    # when: even the right password is refused while locked
    response = _login(client, user.email, PASSWORD)
    # then
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_lockout_counts_failures_per_ip_across_accounts_at_the_address_limit(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    people = UserFactory.create_batch(3)
    for person in people:
        _login(client, person.email, "wrong-password")
    fresh = UserFactory()
    response = _login(client, fresh.email, PASSWORD)
    assert response.status_code == 429


def test_logout_needs_post_and_ends_the_session(user_client, user):
    assert user_client.get(reverse("accounts:logout")).status_code == 405
    response = user_client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert user_client.get(reverse("dashboard")).status_code == 302
    assert AuditEvent.objects.filter(action="accounts.user.logged_out", actor=user).exists()


def test_password_change_validates_and_audits_without_the_password(user_client, user):
    url = reverse("accounts:password_change")
    weak = user_client.post(
        url, {"old_password": PASSWORD, "new_password1": "12345", "new_password2": "12345"}
    )
    assert weak.status_code == 200
    assert b"too short" in weak.content
    new = "a-much-better-passphrase-42"
    response = user_client.post(
        url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    event = AuditEvent.objects.get(action="accounts.user.password_changed")
    assert new not in str(event.changes) + str(event.metadata)


def test_login_form_requires_a_csrf_token():
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("accounts:login"), {"username": "a@b.example", "password": "x"})
    assert response.status_code == 403
    assert b"Form expired" in response.content


def test_signing_in_does_not_reset_an_addresses_failures_against_others(settings):
    settings.AXES_FAILURE_LIMIT = 3
    attacker, victim = UserFactory(), UserFactory()
    client = Client(REMOTE_ADDR="203.0.113.50")
    for _ in range(2):
        _login(client, victim.email, "guess")
    assert _login(Client(REMOTE_ADDR="203.0.113.50"), attacker.email, PASSWORD).status_code == 302
    _login(client, victim.email, "guess")
    response = _login(Client(REMOTE_ADDR="203.0.113.50"), victim.email, PASSWORD)
    assert response.status_code == 429


def test_lockout_counts_the_client_behind_the_trusted_proxy(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    settings.AXES_IPWARE_PROXY_COUNT = 1
    people = UserFactory.create_batch(3)
    for person in people:
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7").post(
            reverse("accounts:login"), {"username": person.email, "password": "wrong"}
        )
    other_client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4")
    fresh = UserFactory()
    response = other_client.post(
        reverse("accounts:login"), {"username": fresh.email, "password": PASSWORD}
    )
    assert response.status_code == 302
