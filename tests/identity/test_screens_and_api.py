"""Find a profile by any identifier; merge, unmerge and review links in the page and the API."""

import pytest
from django.contrib.messages import get_messages
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.consent import services as consent
from apps.identity import selectors, services
from apps.identity.models import Merge
from apps.identity.normalise import Ident

pytestmark = pytest.mark.django_db


def _api(person):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=person, name='t')[1]}")
    return client


def test_lookup_by_identifier_finds_the_profile_whatever_the_spelling(admin):
    services.link_record(a=("anonymous_id", "a-1"), b=("email", "Lena@Example.de"), rule="identify")
    body = _api(admin).get("/api/v1/profiles/", {"identifier": "email:LENA@example.de "}).json()
    assert body["count"] == 1
    assert {i["value"] for i in body["results"][0]["identifiers"]} == {"a-1", "lena@example.de"}
    bad = _api(admin).get("/api/v1/profiles/", {"identifier": "email:undefined"})
    assert bad.status_code == 400
    assert "placeholder" in bad.json()["message"]


def test_merge_conflicts_answer_409_and_unmerge_splits(admin):
    services.identifier_observe(("user_id", "u-1"))
    services.identifier_observe(("user_id", "u-2"))
    services.identifier_observe(("email", "a@example.com"))
    one = selectors.profile_resolve(Ident("user_id", "u-1"))
    two = selectors.profile_resolve(Ident("user_id", "u-2"))
    three = selectors.profile_resolve(Ident("email", "a@example.com"))
    api = _api(admin)
    refused = api.post(f"/api/v1/profiles/{one.pk}/merge/", {"other": two.pk}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "merge_conflict"
    merged = api.post(f"/api/v1/profiles/{one.pk}/merge/", {"other": three.pk}, format="json")
    assert merged.status_code == 200
    winner = merged.json()["id"]
    assert {i["type"] for i in merged.json()["identifiers"]} == {"user_id", "email"}
    merge = Merge.objects.get()
    split = api.post(f"/api/v1/profiles/{winner}/unmerge/", {"merge": merge.pk}, format="json")
    assert split.status_code == 200
    assert len(split.json()["identifiers"]) == 1
    again = api.post(f"/api/v1/profiles/{winner}/unmerge/", {"merge": merge.pk}, format="json")
    assert again.json()["code"] == "already_undone"


def test_the_review_queue_confirms_in_the_browser(admin, admin_client):
    link = services.link_record(
        a=("anonymous_id", "a-1"),
        b=("anonymous_id", "a-2"),
        rule="ip_user_agent",
        kind="probabilistic",
        confidence=0.8,
    )
    page = admin_client.get("/profiles/review/")
    assert f'data-link="{link.pk}"' in page.content.decode()
    response = admin_client.post(f"/profiles/links/{link.pk}/confirm/", {"confirmed": "1"})
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Link anonymous_id:a-1 ~ anonymous_id:a-2 confirmed."
    ]
    assert selectors.profile_resolve(Ident("anonymous_id", "a-1")) == selectors.profile_resolve(
        Ident("anonymous_id", "a-2")
    )


def test_the_profile_page_shows_identifiers_links_merges_and_consent(admin, admin_client):
    services.identifier_observe(("anonymous_id", "a-1"))
    services.link_record(a=("anonymous_id", "a-1"), b=("email", "lena@example.de"), rule="identify")
    consent.consent_record(
        subject=("anonymous_id", "a-1"),
        purpose="analytics",
        granted=True,
        source="banner",
        jurisdiction="gdpr",
    )
    profile = selectors.profile_resolve(Ident("email", "lena@example.de"))
    body = admin_client.get(f"/profiles/{profile.pk}/").content.decode()
    assert "lena@example.de" in body
    assert "Identify call" in body
    assert "merged into profile" in body
    assert 'id="consent"' in body
    assert "Granted (cookie banner)" in body


def test_people_without_identity_view_cannot_see_profiles(user_client, user):
    services.identifier_observe(("email", "x@example.com"))
    assert user_client.get("/profiles/").status_code == 403
    assert _api(user).get("/api/v1/profiles/").status_code == 403
