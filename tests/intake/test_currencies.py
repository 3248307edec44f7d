"""Money in an intake request is recorded in an ISO 4217 currency, on the form and through
the API alike, so an approved candidate always lands in the registry."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.intake.models import Candidate, IntakeRequest
from tests.intake.conftest import request_at

pytestmark = pytest.mark.django_db

NOT_A_CURRENCY = "“ZZZ” is not a currency code. Use a three-letter code such as USD, EUR or GBP."


def _client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _api(person) -> APIClient:
    _, raw = api_token_create(user=person, name="test token", days=7)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def test_problem_form_refuses_a_code_that_is_no_currency_with_the_other_errors(cast):
    # when
    response = _client(cast.requester).post(
        "/intake/new/", {"title": "", "cost_currency": "ZZZ", "cost_hours_per_month": "-3"}
    )

    # then
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["cost_currency"] == [NOT_A_CURRENCY]
    assert errors["cost_hours_per_month"] == ["Hours lost can't be negative."]
    assert set(errors) == {"title", "cost_currency", "cost_hours_per_month"}
    assert not IntakeRequest.objects.exists()


def test_api_refuses_a_problem_cost_in_three_letters_that_are_no_currency(cast):
    # given
    req = request_at(cast, "problem")

    # when
    answer = _api(cast.requester).patch(
        f"/api/v1/intake-requests/{req.pk}/", {"cost_currency": "abc"}, format="json"
    )

    # then
    assert answer.status_code == 400
    assert answer.json()["code"] == "currency"
    req.refresh_from_db()
    assert req.cost_currency == "USD"


def test_a_candidate_in_no_currency_is_refused_on_the_page_and_in_the_api(cast):
    # given
    req = request_at(cast, "system", candidates=["Airship"])
    api = _api(cast.requester)

    # when
    page = _client(cast.requester).post(
        f"/intake/{req.pk}/candidates/", {"name": "OneSignal", "currency": "ZZZ"}, follow=True
    )
    answer = api.post(
        f"/api/v1/intake-requests/{req.pk}/candidates/",
        {"name": "OneSignal", "currency": "ZZZ"},
        format="json",
    )

    # then
    assert f"Currency: {NOT_A_CURRENCY}" in [str(m) for m in page.context["messages"]]
    assert answer.status_code == 400
    assert answer.json()["code"] == "currency"
    assert answer.json()["message"] == NOT_A_CURRENCY
    assert list(Candidate.objects.values_list("name", flat=True)) == ["Airship"]


def test_a_candidate_with_several_mistakes_is_told_all_of_them_in_one_message(cast, client):
    from django.contrib.messages import get_messages

    from .conftest import request_at

    req = request_at(cast, "system")
    client.force_login(cast.requester)
    form = {"name": "", "estimated_annual_cost": "-5", "currency": "ZZZ"}
    answer = client.post(f"/intake/{req.pk}/candidates/", form)
    said = " ".join(str(m) for m in get_messages(answer.wsgi_request))
    assert "Name: This field is required." in said
    assert "can't be negative" in said
    assert "ZZZ" in said
    assert req.candidates.count() == 1  # only the one the walk-through added


def test_creating_a_request_through_the_api_in_no_currency_names_the_field_like_the_form(cast):
    # when
    answer = _api(cast.requester).post(
        "/api/v1/intake-requests/",
        {"title": "Push for the app", "cost_money_per_month": "300", "cost_currency": "ZZZ"},
        format="json",
    )

    # then
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "currency"
    assert body["details"]["fields"] == {"cost_currency": [NOT_A_CURRENCY]}
    assert not IntakeRequest.objects.exists()


def test_a_candidate_through_the_api_in_no_currency_names_the_currency_field(cast):
    # given
    req = request_at(cast, "system")

    # when
    answer = _api(cast.requester).post(
        f"/api/v1/intake-requests/{req.pk}/candidates/",
        {"name": "Pushwoosh", "currency": "ZZZ"},
        format="json",
    )

    # then
    assert answer.status_code == 400
    assert answer.json()["details"]["fields"] == {"currency": [NOT_A_CURRENCY]}
