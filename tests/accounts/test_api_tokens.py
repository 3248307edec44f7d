"""Personal API tokens: hashed storage, expiry, revocation, throttled issuance."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken
from apps.accounts.services import api_token_create, api_tokens_purge_expired
from apps.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
ME = "/api/v1/me/"


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_token_is_stored_only_as_its_sha256_digest(user):
    token, raw = api_token_create(user=user, name="export", days=30)
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.token_hash, stored.prefix}
    assert raw.startswith(stored.prefix)


def test_bearer_token_authenticates_and_records_last_use(user):
    token, raw = api_token_create(user=user, name="export", days=30)
    response = _bearer(raw).get(ME)
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer mtc_notarealtoken", "Invalid API token."),
        ("Bearer two words", "Malformed Authorization header."),
    ],
)
def test_bad_bearer_tokens_get_401_with_the_error_shape(header, message):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json() == {"code": "authentication_failed", "message": message, "details": {}}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_refused(user):
    token, raw = api_token_create(user=user, name="old", days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = _bearer(raw).get(ME)
    assert response.status_code == 401
    assert response.json()["message"] == "This API token has expired."


def test_revoked_token_is_refused_at_once(api):
    assert api.get(ME).status_code == 200
    token = ApiToken.objects.get()
    assert api.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    response = api.get(ME)
    assert response.status_code == 401
    assert response.json()["message"] == "This API token was revoked."


def test_deactivated_owner_cannot_use_their_token(user):
    _, raw = api_token_create(user=user, name="x", days=5)
    user.is_active = False
    user.save()
    assert _bearer(raw).get(ME).status_code == 401


def test_anonymous_api_request_gets_401_not_authenticated():
    response = APIClient().get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_api_creates_shows_once_and_lists_without_secret(api):
    created = api.post("/api/v1/tokens/", {"name": "Looker", "days": 10}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("mtc_")
    listing = api.get("/api/v1/tokens/").json()
    assert listing["count"] == 2
    assert all("token" not in row for row in listing["results"])
    assert AuditEvent.objects.filter(action="accounts.api_token.created").count() == 2


def test_token_api_rejects_lifetime_beyond_the_maximum(api, settings):
    response = api.post(
        "/api/v1/tokens/", {"name": "x", "days": settings.API_TOKEN_MAX_DAYS + 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "days" in response.json()["details"]["fields"]


def test_another_persons_token_is_not_found(api):
    other = UserFactory()
    token, _ = api_token_create(user=other, name="theirs", days=5)
    assert api.get(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert api.delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_twice_is_a_conflict(api, user):
    token, _ = api_token_create(user=user, name="y", days=5)
    assert api.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    response = api.delete(f"/api/v1/tokens/{token.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "token_already_revoked"


def test_token_endpoint_exchanges_email_and_password_for_a_token(user):
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": PASSWORD, "name": "CI"},
        format="json",
    )
    assert response.status_code == 201
    assert _bearer(response.json()["token"]).get(ME).status_code == 200


def test_token_endpoint_refuses_wrong_password_with_401(user):
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": "nope", "name": "CI"},
        format="json",
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_token_endpoint_locks_out_after_repeated_failures(user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = APIClient()
    for _ in range(3):
        client.post(
            "/api/v1/auth/token/",
            {"email": user.email, "password": "nope", "name": "x"},
            format="json",
        )
    response = client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": PASSWORD, "name": "x"},
        format="json",
    )
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert not ApiToken.objects.filter(user=user).exists()


def test_create_api_token_command_prints_a_working_token_once(user):
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_token", user.email, "--name", "deploy", "--days", "3", stdout=out, stderr=err
    )
    raw = out.getvalue().strip()
    assert raw.startswith("mtc_")
    assert "cannot be shown again" in err.getvalue()
    token = ApiToken.objects.get(user=user)
    assert token.name == "deploy"
    assert (token.expires_at - timezone.now()).days in (2, 3)
    assert _bearer(raw).get(ME).status_code == 200
    assert AuditEvent.objects.get(action="accounts.api_token.created").actor_label == (
        "command:create_api_token"
    )


def test_create_api_token_command_rejects_unknown_email(db):
    with pytest.raises(CommandError, match="No person"):
        call_command("create_api_token", "nobody@acme.example")


def test_purge_deletes_only_long_expired_or_revoked_tokens_and_audits(user, settings):
    settings.API_TOKEN_PURGE_AFTER_DAYS = 30
    now = timezone.now()
    api_token_create(user=user, name="fresh", days=5)
    stale, _ = api_token_create(user=user, name="stale", days=5)
    recently_expired, _ = api_token_create(user=user, name="recent", days=5)
    ApiToken.objects.filter(pk=stale.pk).update(expires_at=now - dt.timedelta(days=31))
    ApiToken.objects.filter(pk=recently_expired.pk).update(expires_at=now - dt.timedelta(days=2))
    assert api_tokens_purge_expired() == 1
    assert set(ApiToken.objects.values_list("name", flat=True)) == {"fresh", "recent"}
    event = AuditEvent.objects.get(action="accounts.api_token.purged")
    assert event.metadata["name"] == "stale"


def test_token_page_shows_new_token_once_and_revokes(user_client, user):
    url = reverse("accounts:token_list")
    created = user_client.post(url, {"name": "Sheets export", "days": 30})
    assert (created.status_code, created["Location"]) == (302, url)
    shown = user_client.get(url)
    raw = shown.context["new_token"]["raw"]
    assert raw.encode() in shown.content
    assert raw.encode() not in created.content
    again = user_client.get(url)
    assert raw.encode() not in again.content
    token = ApiToken.objects.get(user=user)
    revoke = user_client.post(reverse("accounts:token_revoke", args=[token.pk]), {"confirmed": "1"})
    assert revoke.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_reloading_the_new_token_page_mints_no_second_token(user_client, user):
    # given a token just created, shown on the page the form redirected to
    url = reverse("accounts:token_list")
    shown = user_client.post(url, {"name": "Sheets export", "days": 30}, follow=True)
    assert shown.context["new_token"]["raw"]

    # when the person reloads that page (the browser repeats the request that showed it)
    assert shown.wsgi_request.method == "GET"
    reloaded = user_client.get(url)

    # then nothing new is created and the token is not shown again
    assert ApiToken.objects.filter(user=user).count() == 1
    assert reloaded.context["new_token"] is None
    assert b"Sheets export" in reloaded.content


def test_token_page_shows_form_errors_for_bad_input(user_client):
    response = user_client.post(reverse("accounts:token_list"), {"name": "", "days": 0})
    assert response.status_code == 400
    assert b"This field is required" in response.content


def test_revoking_someone_elses_token_in_the_ui_is_404(user_client):
    token, _ = api_token_create(user=UserFactory(), name="theirs", days=5)
    response = user_client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 404


def test_token_list_filters_by_status(api, user):
    revoked, _ = api_token_create(user=user, name="old laptop", days=5)
    api.delete(f"/api/v1/tokens/{revoked.pk}/")
    active = api.get("/api/v1/tokens/", {"status": "active"}).json()["results"]
    assert [t["name"] for t in active] == ["test token"]
    gone = api.get("/api/v1/tokens/", {"status": "revoked"}).json()["results"]
    assert [t["name"] for t in gone] == ["old laptop"]
    assert api.get("/api/v1/tokens/", {"status": "lost"}).status_code == 400


def test_a_deactivated_persons_tokens_stay_revoked_when_they_come_back(admin_api, admin):
    # given: a person with a working token
    person = UserFactory()
    _, raw = api_token_create(user=person, name="laptop", days=30)
    mine = APIClient()
    mine.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert mine.get("/api/v1/me/").status_code == 200
    # "activating" someone already active changes nothing
    admin_api.patch(f"/api/v1/users/{person.pk}/", {"is_active": True}, format="json")
    assert mine.get("/api/v1/me/").status_code == 200

    # when: an access admin deactivates them and later brings them back
    assert (
        admin_api.patch(f"/api/v1/users/{person.pk}/", {"is_active": False}, format="json")
    ).status_code == 200
    assert (
        admin_api.patch(f"/api/v1/users/{person.pk}/", {"is_active": True}, format="json")
    ).status_code == 200

    # then: the old token is revoked for good (audited), and a new one works
    response = mine.get("/api/v1/me/")
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]
    token = ApiToken.objects.get(user=person)
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(
        action="accounts.api_token.revoked", target_id=str(token.pk)
    ).exists()
    _, fresh_raw = api_token_create(user=person, name="new laptop", days=30)
    again = APIClient()
    again.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh_raw}")
    assert again.get("/api/v1/me/").status_code == 200


def test_a_deactivated_persons_browser_sessions_end_and_stay_ended(admin_api):
    # given: a person signed in in a browser
    person = UserFactory()
    browser = Client()
    assert (
        browser.post(
            reverse("accounts:login"), {"username": person.email, "password": PASSWORD}
        ).status_code
        == 302
    )
    assert browser.get(reverse("access:my_access")).status_code == 200

    # when: deactivated, then reactivated
    admin_api.patch(f"/api/v1/users/{person.pk}/", {"is_active": False}, format="json")
    admin_api.patch(f"/api/v1/users/{person.pk}/", {"is_active": True}, format="json")

    # then: the old session is gone; signing in again works
    assert browser.get(reverse("access:my_access")).status_code == 302
