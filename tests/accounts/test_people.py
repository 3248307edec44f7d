"""The people directory, the user model and the demo data."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from apps.accounts.demo import DEMO_ADMIN_EMAIL, PEOPLE
from apps.accounts.models import User
from apps.accounts.services import user_create
from apps.audit.models import AuditEvent
from martech.common.errors import ApplicationError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_tenure_counts_days_since_start_date_and_never_goes_negative():
    today = timezone.localdate()
    assert UserFactory(start_date=today - dt.timedelta(days=90)).tenure_days() == 90
    assert UserFactory(start_date=today + dt.timedelta(days=5)).tenure_days() == 0


def test_user_create_normalises_email_refuses_duplicates_and_audits():
    person = user_create(email="  Mei.Tanaka@ACME.example ", full_name="Mei Tanaka")
    assert person.email == "mei.tanaka@acme.example"
    with pytest.raises(ApplicationError) as exc:
        user_create(email="MEI.TANAKA@acme.example", full_name="Someone")
    assert exc.value.code == "email_taken"
    event = AuditEvent.objects.get(action="accounts.user.created")
    assert event.changes["email"] == {"before": None, "after": "mei.tanaka@acme.example"}


def test_database_refuses_emails_that_differ_only_in_case():
    UserFactory(email="sam@acme.example")
    with pytest.raises(IntegrityError):
        User.objects.create(email="SAM@acme.example", full_name="Sam")


def test_people_page_filters_paginates_and_serves_an_htmx_partial(user_client):
    UserFactory.create_batch(30, team="Growth")
    UserFactory(full_name="Zelda Quartermaine", team="Brand")
    page = user_client.get(reverse("accounts:user_list"))
    assert page.status_code == 200
    assert page.context["page_obj"].paginator.num_pages == 2
    filtered = user_client.get(reverse("accounts:user_list"), {"q": "quarterm"})
    assert [p.full_name for p in filtered.context["object_list"]] == ["Zelda Quartermaine"]
    partial = user_client.get(
        reverse("accounts:user_list"), {"team": "brand"}, HTTP_HX_REQUEST="true"
    )
    assert b"<html" not in partial.content
    assert b"Zelda Quartermaine" in partial.content


def test_people_page_shows_an_empty_state_when_nothing_matches(user_client):
    response = user_client.get(reverse("accounts:user_list"), {"q": "no-such-person"})
    assert b"No one matches these filters" in response.content


def test_unknown_person_is_a_friendly_404(user_client):
    response = user_client.get(reverse("accounts:user_detail", args=[999999]))
    assert response.status_code == 404
    assert b"not visible to you" in response.content


def test_users_api_lists_filters_and_orders(api):
    UserFactory(full_name="Ana Costa", team="Growth")
    UserFactory(full_name="Ravi Patel", team="Growth")
    response = api.get("/api/v1/users/", {"team": "growth", "ordering": "-full_name"})
    assert response.status_code == 200
    assert [u["full_name"] for u in response.json()["results"]] == ["Ravi Patel", "Ana Costa"]


def test_demo_data_loads_idempotently_with_a_working_admin_login(client):
    from apps.provisioning.demo import HIRES

    call_command("load_demo")
    call_command("load_demo")
    # the demo people, the identity provider's account and the people it provisioned
    people = len(PEOPLE) + 1 + len(HIRES)
    assert User.objects.count() == people
    assert AuditEvent.objects.filter(action="accounts.user.created").count() == people
    admin = User.objects.get(email=DEMO_ADMIN_EMAIL)
    assert admin.is_superuser
    assert User.objects.filter(is_active=False).count() == 1 + sum(not h[-1] for h in HIRES)
    assert admin.api_tokens.count() == 1
    response = client.post(
        reverse("accounts:login"), {"username": DEMO_ADMIN_EMAIL, "password": "martech-demo-2026"}
    )
    assert response.status_code == 302


def test_forms_refuse_out_of_range_dates_instead_of_failing(admin_client, admin):
    from apps.access.services import role_create

    person = UserFactory()
    role = role_create(actor=admin, name="Readers", owner=admin)
    response = admin_client.post(
        reverse("access:user_assign_role", args=[person.pk]),
        {"role": role.pk, "ends_on": "9999-12-31"},
    )
    assert response.status_code == 302
    assert not person.assignments.exists()
    review = admin_client.post(
        reverse("access:review_create"),
        {"name": "x", "roles": [role.pk], "deadline": "9999-12-31", "unreviewed_policy": "keep"},
    )
    assert review.status_code == 400
    assert b"Use a date between 1900 and 2999" in review.content


def test_activation_needs_an_explicit_choice(admin_client):
    person = UserFactory()
    admin_client.post(reverse("accounts:user_active", args=[person.pk]), {})
    person.refresh_from_db()
    assert person.is_active


def test_non_managers_get_403_before_their_input_is_read(user_client, admin):
    from apps.access.services import role_create

    role = role_create(actor=admin, name="Readers", owner=admin)
    response = user_client.post(
        reverse("access:role_capability_set", args=[role.pk]), {"capability": "nonsense"}
    )
    assert response.status_code == 403


def test_edit_pages_answer_404_for_unknown_objects(user_client):
    assert user_client.get(reverse("accounts:user_edit", args=[999999])).status_code == 404
    assert user_client.get(reverse("access:role_edit", args=[999999])).status_code == 404
