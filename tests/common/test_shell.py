"""The page shell: navigation that follows permissions, and the command palette."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory, person_with

pytestmark = pytest.mark.django_db


def _titles(response):
    return [(r["kind"], r["title"]) for r in response.json()["results"]]


def test_sidebar_shows_only_pages_the_user_may_open(user_client, admin_client):
    ordinary = user_client.get(reverse("dashboard")).content.decode()
    admin = admin_client.get(reverse("dashboard")).content.decode()
    assert reverse("audit:event_list") not in ordinary
    assert reverse("audit:event_list") in admin
    assert reverse("accounts:user_list") in ordinary


def test_palette_finds_pages_by_name_and_keyword(user_client):
    assert ("Page", "People") in _titles(user_client.get(reverse("palette"), {"q": "people"}))
    assert ("Page", "API tokens") in _titles(user_client.get(reverse("palette"), {"q": "bearer"}))


def test_palette_finds_people_by_name_and_links_to_them(user_client):
    person = UserFactory(full_name="Chloé Dubois", team="Growth")
    response = user_client.get(reverse("palette"), {"q": "chlo"})
    results = response.json()["results"]
    assert {"title": "Chloé Dubois", "kind": "Person"}.items() <= results[0].items()
    assert results[0]["url"] == reverse("accounts:user_detail", args=[person.pk])


def test_palette_hides_pages_the_user_may_not_open(user_client, admin_client):
    assert ("Page", "Audit log") not in _titles(user_client.get(reverse("palette"), {"q": "audit"}))
    assert ("Page", "Audit log") in _titles(admin_client.get(reverse("palette"), {"q": "audit"}))


def test_palette_needs_a_signed_in_person(client):
    response = client.get(reverse("palette"), {"q": "people"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_dashboard_shows_activity_for_auditors(admin_client):
    response = admin_client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert response.context["activity_chart"]["values"][-1] >= 1  # this sign-in
    assert b"activity-chart-data" in response.content


def test_dashboard_tells_a_manager_about_requests_waiting_for_them(admin):
    from django.test import Client

    from apps.access.services import access_request_create

    # a manager decides a report's request only for what he holds himself
    lead = person_with(admin, "audit.view", name="Team Lead")
    report = UserFactory(manager=lead)
    access_request_create(
        requester=report, capability="audit.view", justification="QBR", duration_days=3
    )
    manager = Client()
    manager.force_login(lead)
    response = manager.get(reverse("dashboard"))
    html = response.content.decode()
    waiting = html.split('data-attention="accounts.requests"', 1)[1].split("</a>", 1)[0]
    assert f"Decide the access request of {report.full_name}" in waiting
