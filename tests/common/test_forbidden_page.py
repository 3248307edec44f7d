"""A refused page names what is missing in words and offers to ask for it."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_403_page_names_the_capability_in_words_and_offers_to_request_it(client):
    client.force_login(UserFactory(full_name="Jonas Berg"))
    page = client.get("/intake/new/")
    assert page.status_code == 403
    html = page.content.decode()
    assert "Submit intake requests" in html
    assert 'href="/access/requests/new/?capability=intake.submit"' in html
    assert 'href="/access/me/"' in html
    message = html.split('class="empty-subtitle text-secondary">', 1)[1].split("</p>", 1)[0]
    assert "intake.submit" not in message


def test_the_api_keeps_the_capability_code_in_its_403(client):
    client.force_login(UserFactory())
    answer = client.get("/api/v1/audit-events/", HTTP_ACCEPT="application/json")
    assert answer.status_code == 403
    assert answer.json()["code"] == "permission_denied"
    assert "audit.view" in answer.json()["message"]
