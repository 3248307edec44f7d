"""A GET on an address that only takes a form shows the branded page, not a blank one."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_get_on_a_post_only_page_shows_the_branded_405_with_a_link_back(client):
    # given
    client.force_login(UserFactory())

    # when
    page = client.get("/notifications/read/")

    # then
    assert page.status_code == 405
    assert page["Allow"] == "POST"
    html = page.content.decode()
    assert "Nothing to show here" in html
    assert 'href="/notifications/"' in html
    assert 'href="/"' in html


def test_the_405_page_links_to_the_page_the_form_belongs_to(admin_client):
    page = admin_client.get("/tracking-plans/import/")

    assert page.status_code == 405
    assert 'href="/tracking-plans/"' in page.content.decode()


def test_the_api_keeps_its_json_405(admin_client):
    answer = admin_client.get("/api/v1/auth/token/")

    assert answer.status_code == 405
    assert answer.json()["code"] == "method_not_allowed"
