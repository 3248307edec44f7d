"""Erasure through the API and the pages: log, verify, approve, follow, evidence."""

from __future__ import annotations

import csv
import io

from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.erasure.models import ErasureRequest, RequestStatus, TaskStatus
from apps.tools.services import tool_create

from .conftest import person_with, verified


def test_the_api_logs_verifies_approves_and_confirms_a_manual_task(admin, admin_api, ana):
    owner = person_with(admin, "erasure.view", name="Olga Owner")
    tool_create(
        actor=admin,
        name="Zendesk",
        vendor="Zendesk",
        category="Support",
        data_categories=["contact"],
        technical_owner=owner,
    )
    asked = {"identifier": "user_id:cus_1", "channel": "api", "jurisdiction": "ccpa"}
    created = admin_api.post("/api/v1/erasure-requests/", asked, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["subject_masked"] == "cu***_1"
    assert "cus_1" not in created.content.decode()
    pk = body["id"]
    bad = admin_api.post(f"/api/v1/erasure-requests/{pk}/approve/")
    assert (bad.status_code, bad.json()["code"]) == (409, "not_verified")
    admin_api.post(f"/api/v1/erasure-requests/{pk}/verify/", {"note": "Signed in"}, format="json")
    approved = admin_api.post(f"/api/v1/erasure-requests/{pk}/approve/").json()
    assert approved["status"] == "in_progress"
    assert approved["local_erasure"]["identifiers"] == 4
    [task] = approved["tasks"]
    assert task["status"] == "manual"
    refused = admin_api.post(
        f"/api/v1/erasure-requests/{pk}/confirm-manual-task/",
        {"task": task["id"], "note": ""},
        format="json",
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "note_required")
    confirmed = {"task": task["id"], "note": "Deleted the user"}
    done = admin_api.post(
        f"/api/v1/erasure-requests/{pk}/confirm-manual-task/", confirmed, format="json"
    )
    assert done.json()["tasks"][0]["status"] == "done"
    assert admin_api.get(f"/api/v1/erasure-requests/{pk}/").json()["status"] == "in_progress"
    from apps.erasure.services import identifier_decide

    for maybe in ErasureRequest.objects.get(pk=pk).identifiers.filter(decision="pending"):
        identifier_decide(actor=admin, identifier=maybe, include=False)
    assert admin_api.get(f"/api/v1/erasure-requests/{pk}/").json()["status"] == "completed"


def test_the_list_shows_countdowns_and_progress_and_the_evidence_exports(admin, client, ana):
    client.force_login(admin)
    tool_create(
        actor=admin,
        name="Zendesk",
        vendor="Zendesk",
        category="Support",
        data_categories=["contact"],
    )
    request = verified(admin)
    empty = client.get(reverse("erasure:request_list") + "?state=completed")
    assert b"No erasure requests" in empty.content
    client.post(reverse("erasure:request_approve", args=[request.pk]), {"confirmed": "1"})
    listing = client.get(reverse("erasure:request_list"))
    assert request.reference.encode() in listing.content
    assert b"days left" in listing.content
    assert b"0/1" in listing.content
    page = client.get(reverse("erasure:request_detail", args=[request.pk]))
    assert b"Zendesk" in page.content
    assert b"Same person" in page.content  # the possible match, for a decision
    assert b"ana@acme.example" not in page.content
    report = client.get(reverse("erasure:evidence", args=[request.pk]))
    assert b"Erasure evidence" in report.content
    exported = client.get(reverse("erasure:evidence_csv", args=[request.pk]))
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[1][0] == request.reference
    assert any(r and r[0] == "Zendesk" and r[2] == TaskStatus.MANUAL for r in rows)
    assert "ana@acme.example" not in exported.content.decode()


def test_a_person_without_erasure_view_gets_404_for_a_request(admin, client, ana):
    outsider = person_with(admin, "tools.view", name="Nia Nosy")
    request = verified(admin)
    client.force_login(outsider)
    assert client.get(reverse("erasure:request_detail", args=[request.pk])).status_code == 404
    assert request.status == RequestStatus.VERIFIED


def _api_as(person) -> APIClient:
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=person, name='t', days=1)[1]}"
    )
    return api


def test_api_actions_answer_404_before_reading_the_body_for_a_request_the_caller_cannot_see(
    admin, admin_api, ana
):
    # given a request, and a person who may not see erasure requests
    request = verified(admin)
    outsider_api = _api_as(person_with(admin, "tools.view", name="Nia Nosy"))
    # when they post empty bodies to its actions (and to those of one that does not exist)
    for pk in (request.pk, 999999):
        for action in ("verify", "extend", "retry-task", "confirm-manual-task"):
            answer = outsider_api.post(
                f"/api/v1/erasure-requests/{pk}/{action}/", {}, format="json"
            )
            # then the answer is the 404 of an unknown request, not a word about the body
            assert answer.status_code == 404, (pk, action, answer.content)
    # and someone who sees the request still hears about the body
    own = admin_api.post(f"/api/v1/erasure-requests/{request.pk}/extend/", {}, format="json")
    assert own.status_code == 400
