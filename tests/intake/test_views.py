"""The intake pages: the board by stage, the request page, and forms that explain refusals."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from apps.intake.models import IntakeRequest
from tests.intake.conftest import request_at

pytestmark = pytest.mark.django_db


def _client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_starting_a_request_asks_for_the_problem_first(cast):
    client = _client(cast.requester)
    page = client.get("/intake/new/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "The discrete issue" in body
    assert "candidate" not in body.lower()
    response = client.post(
        "/intake/new/", {"title": "Slow lead routing", "cost_currency": "USD"}, follow=True
    )
    req = IntakeRequest.objects.get()
    assert response.redirect_chain[-1][0] == f"/intake/{req.pk}/"
    body = response.content.decode()
    assert "Before People can open:" in body
    assert "Say who suffers it." in body
    assert "Opens when the problem and the people are complete." in body


def test_a_form_error_comes_back_on_the_form(cast):
    response = _client(cast.requester).post(
        "/intake/new/", {"title": "", "cost_currency": "US", "cost_hours_per_month": "-3"}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"title", "cost_currency", "cost_hours_per_month"}
    assert not IntakeRequest.objects.exists()


def test_moving_on_too_early_is_explained_not_done(cast):
    req = request_at(cast, "problem")
    IntakeRequest.objects.filter(pk=req.pk).update(evidence="")
    response = _client(cast.requester).post(f"/intake/{req.pk}/advance/")
    assert response.status_code == 302
    assert _messages(response) == ["Problem is not complete: Give the evidence."]
    req.refresh_from_db()
    assert req.stage == "problem"


def test_the_system_form_is_not_open_before_its_stage(cast):
    req = request_at(cast, "people")
    response = _client(cast.requester).get(f"/intake/{req.pk}/system/")
    assert response.status_code == 302
    assert response.url == f"/intake/{req.pk}/"
    assert _messages(response) == ["This request is in People."]
    posted = _client(cast.requester).post(
        f"/intake/{req.pk}/system/", {"approach": "buy", "proposed_capabilities": ["push_sms"]}
    )
    assert posted.status_code == 400
    assert "only in the System stage" in posted.content.decode()


def test_a_stakeholder_form_error_is_shown_as_a_message(cast):
    req = request_at(cast, "people", approvers=[])
    response = _client(cast.requester).post(
        f"/intake/{req.pk}/stakeholders/", {"person": cast.alice.pk, "part": "boss"}
    )
    assert response.status_code == 302
    assert _messages(response) == [
        "Part: Select a valid choice. boss is not one of the available choices."
    ]
    assert not req.stakeholders.exists()


def test_approvers_see_the_decision_form_others_do_not(cast):
    req = request_at(cast, "decision", approvers=[cast.alice])
    assert "Your comment" in _client(cast.alice).get(f"/intake/{req.pk}/").content.decode()
    assert "Your comment" not in _client(cast.bob).get(f"/intake/{req.pk}/").content.decode()
    assert _client(cast.outsider).get(f"/intake/{req.pk}/").status_code == 404


def test_approving_in_the_browser_links_the_new_tool(cast):
    req = request_at(cast, "decision", approvers=[cast.alice])
    response = _client(cast.alice).post(
        f"/intake/{req.pk}/approve/", {"comment": "Go."}, follow=True
    )
    assert _messages(response) == ["Approved. OneSignal is in the registry as evaluating."]
    body = response.content.decode()
    assert "Onboarding OneSignal" in body
    assert "Get a data processing agreement (DPA) on file" in body


def test_the_board_shows_each_request_in_its_stage_column(cast):
    for stage in ("problem", "people", "system", "decision"):
        request_at(cast, stage)
    page = _client(cast.alice).get("/intake/")
    columns = {c.stage: c.total for c in page.context["columns"]}
    assert columns == {"problem": 1, "people": 1, "system": 1, "decision": 1, "closed": 0}
    assert _client(cast.outsider).get("/intake/").context["total"] == 0
    assert "No intake requests yet" in _client(cast.outsider).get("/intake/").content.decode()


def test_the_list_filters_by_stage(cast):
    request_at(cast, "problem")
    request_at(cast, "decision")
    page = _client(cast.alice).get("/intake/requests/", {"stage": "decision"})
    assert [r.stage for r in page.context["object_list"]] == ["decision"]
