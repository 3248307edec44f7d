"""Looking someone up takes a bare email, phone or id and finds them whatever its type; a
lookup that cannot be read finds nobody rather than everyone."""

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.identity import services

pytestmark = pytest.mark.django_db


def _api(person):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=person, name='t')[1]}")
    return client


@pytest.fixture
def people(db):
    services.link_record(
        a=("anonymous_id", "ajs-1"), b=("email", "lena@example.de"), rule="identify"
    )
    services.link_record(a=("user_id", "cus_48213"), b=("phone", "+4915123456789"), rule="identify")
    services.identifier_observe(("user_id", "cus_00001"))


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("Lena@Example.de", "lena@example.de"),
        ("cus_48213", "cus_48213"),
        ("+49 151 23456789", "+4915123456789"),
        ("ajs-1", "ajs-1"),
        ("email:lena@example.de", "lena@example.de"),
    ],
)
def test_a_bare_value_finds_its_profile_in_the_api(admin, people, typed, found):
    body = _api(admin).get("/api/v1/profiles/", {"identifier": typed}).json()
    assert body["count"] == 1
    assert found in {i["value"] for i in body["results"][0]["identifiers"]}


def test_a_bare_email_on_the_page_lists_only_that_person(admin, admin_client, people):
    page = admin_client.get("/profiles/", {"identifier": "lena@example.de"})
    assert page.status_code == 200
    assert page.context["object_list"].count() == 1
    assert b"lena@example.de" in page.content
    assert b"cus_00001" not in page.content


def test_an_unreadable_lookup_finds_nobody_and_says_why(admin, admin_client, people):
    page = admin_client.get("/profiles/", {"identifier": "undefined"})
    assert page.status_code == 200
    assert page.context["object_list"].count() == 0
    assert b"placeholder" in page.content
    assert b"cus_00001" not in page.content
