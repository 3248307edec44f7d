"""/api/v1/intake-requests/: the stages as actions, with clear errors, filters and ordering."""

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.tools.models import Tool
from tests.intake.conftest import request_at

pytestmark = pytest.mark.django_db
BASE = "/api/v1/intake-requests/"


def _api(person) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=person, name='t')[1]}")
    return client


def test_a_request_walks_from_problem_to_an_approved_tool_through_the_api(cast):
    me, alice = _api(cast.requester), _api(cast.alice)
    created = me.post(BASE, {"title": "Push without engineers"}, format="json")
    assert created.status_code == 201, created.json()
    url = f"{BASE}{created.json()['id']}/"

    refused = me.post(f"{url}advance/")
    assert refused.status_code == 400
    assert refused.json()["code"] == "stage_incomplete"
    assert "Give the evidence." in refused.json()["details"]["missing"]["problem"]
    early = me.post(f"{url}candidates/", {"name": "OneSignal"}, format="json")
    assert early.status_code == 409
    assert early.json()["code"] == "stage_locked"

    problem = {
        "problem_statement": "Each push campaign needs an engineer.",
        "who_suffers": "Lifecycle marketers.",
        "cost_hours_per_month": "24.0",
        "evidence": "14 tickets in October.",
    }
    assert me.patch(url, problem, format="json").status_code == 200
    assert me.post(f"{url}advance/").json()["stage"] == "people"
    added = me.post(
        f"{url}stakeholders/", {"person": cast.alice.pk, "part": "approver"}, format="json"
    )
    assert added.status_code == 201
    assert me.post(f"{url}advance/").json()["stage"] == "system"
    system = {"approach": "buy", "proposed_capabilities": ["push_sms"]}
    assert me.patch(url, system, format="json").status_code == 200
    candidate = me.post(
        f"{url}candidates/",
        {"name": "OneSignal", "vendor": "OneSignal", "estimated_annual_cost": "18000"},
        format="json",
    )
    assert candidate.status_code == 201
    assert candidate.json()["preferred"] is True
    assert me.post(f"{url}advance/").json()["stage"] == "decision"

    assert me.post(f"{url}approve/", {"comment": "Mine!"}, format="json").status_code == 403
    no_comment = alice.post(f"{url}approve/", {}, format="json")
    assert no_comment.status_code == 400
    assert no_comment.json()["details"]["fields"]["comment"]
    approved = alice.post(f"{url}approve/", {"comment": "Go."}, format="json")

    assert approved.status_code == 200
    body = approved.json()
    assert (body["stage"], body["outcome"]) == ("closed", "approved")
    assert body["tool"] == Tool.objects.get(name="OneSignal", status="evaluating").pk
    assert len(body["onboarding_tasks"]) == 7
    assert body["history"][-1]["message"] == "Approved by every approver; OneSignal is evaluating."

    task = body["onboarding_tasks"][0]["id"]
    ticked = me.patch(f"{url}onboarding/{task}/", {"done": True}, format="json")
    assert ticked.status_code == 200
    assert ticked.json()["done_by"] == cast.requester.pk


def test_people_see_only_requests_they_started_or_are_named_on(cast):
    mine = request_at(cast, "people", approvers=[cast.alice])
    theirs = request_at(cast, "problem")
    assert theirs.requester == cast.requester
    outsider = _api(cast.outsider)
    assert outsider.get(BASE).json()["count"] == 0
    assert outsider.get(f"{BASE}{mine.pk}/").status_code == 404
    assert outsider.post(f"{BASE}{mine.pk}/advance/").status_code == 404
    # Named as informed: can read, cannot change.
    from apps.intake import services

    services.stakeholder_add(
        actor=cast.requester, request=mine, person=cast.outsider, part="informed"
    )
    assert outsider.get(f"{BASE}{mine.pk}/").status_code == 200
    assert outsider.patch(f"{BASE}{mine.pk}/", {"title": "x"}, format="json").status_code == 403
    # A decider sees everything.
    assert _api(cast.bob).get(BASE).json()["count"] == 2


def test_filters_and_ordering(cast):
    request_at(cast, "problem")
    request_at(cast, "decision")
    alice = _api(cast.alice)
    decided = alice.get(BASE, {"stage": "decision"}).json()
    assert [r["stage"] for r in decided["results"]] == ["decision"]
    by_cap = alice.get(BASE, {"capability": "push_sms"}).json()
    assert by_cap["count"] == 1
    ordered = alice.get(BASE, {"ordering": "stage"}).json()["results"]
    assert [r["stage"] for r in ordered] == ["decision", "problem"]
    bad = alice.get(BASE, {"stage": "someday"})
    assert bad.status_code == 400


def test_stakeholder_and_candidate_removal_answer_404_for_unknown_ids(cast):
    req = request_at(cast, "system")
    me = _api(cast.requester)
    assert me.delete(f"{BASE}{req.pk}/stakeholders/999999/").status_code == 404
    assert me.delete(f"{BASE}{req.pk}/candidates/999999/").status_code == 404
    stakeholder = req.stakeholders.first()
    assert me.delete(f"{BASE}{req.pk}/stakeholders/{stakeholder.pk}/").status_code == 204


def test_defer_and_reopen_through_the_api(cast):
    req = request_at(cast, "decision", approvers=[cast.alice])
    alice, me = _api(cast.alice), _api(cast.requester)
    past = alice.post(
        f"{BASE}{req.pk}/defer/", {"revisit_on": "2001-01-01", "comment": "x"}, format="json"
    )
    assert past.status_code == 400
    assert past.json()["code"] == "revisit_past"
    deferred = alice.post(
        f"{BASE}{req.pk}/defer/", {"revisit_on": "2999-01-01", "comment": "x"}, format="json"
    )
    assert deferred.status_code == 400
    assert deferred.json()["code"] == "revisit_too_far"
    import datetime as dt

    from django.utils import timezone

    soon = (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    ok = alice.post(f"{BASE}{req.pk}/defer/", {"revisit_on": soon, "comment": "Q2"}, format="json")
    assert (ok.status_code, ok.json()["outcome"], ok.json()["revisit_on"]) == (
        200,
        "deferred",
        soon,
    )
    reopened = me.post(f"{BASE}{req.pk}/reopen/")
    assert (reopened.json()["stage"], reopened.json()["round"]) == ("decision", 2)


def test_overlap_endpoint_matches_the_registry(cast):
    from apps.tools.services import tool_create

    tool_create(
        actor=cast.admin, name="Braze", vendor="Braze", category="x", capabilities=["push_sms"]
    )
    req = request_at(cast, "system")
    body = _api(cast.alice).get(f"{BASE}{req.pk}/overlap/").json()
    assert body == [
        {
            "capability": "push_sms",
            "label": "Push and SMS",
            "sentence": "You already pay for 1 tool with push and SMS",
            "tools": [
                {"id": req.candidates.first().tool_id or body[0]["tools"][0]["id"], "name": "Braze"}
            ],
            "annual_cost": None,
        }
    ]
