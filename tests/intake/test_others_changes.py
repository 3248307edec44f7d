"""A decider may fix or withdraw someone else's request, but the requester hears of it,
and a withdrawal by someone else says why."""

from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import Notification
from apps.audit.models import AuditEvent
from apps.intake import services
from apps.intake.models import IntakeRequest

from .conftest import request_at


def _notices(person) -> list[tuple[str, str]]:
    return list(Notification.objects.filter(user=person).values_list("title", "body"))


def test_a_decider_editing_someone_elses_request_tells_the_requester(cast):
    # given Mei's request
    req = request_at(cast, "problem")
    # when Alice, a decider, fixes its problem statement
    services.intake_update(
        actor=cast.alice, request=req, problem_statement="Push campaigns wait on engineers."
    )
    # then Mei is told who changed what, and the audit record remains
    [(title, body)] = _notices(cast.requester)
    assert title == "Your request was edited: Push without engineers"
    assert body.startswith("Alice Approver changed ")
    assert AuditEvent.objects.filter(action="intake.request.updated").exists()


def test_the_requester_editing_their_own_request_is_not_told(cast):
    req = request_at(cast, "problem")
    services.intake_update(actor=cast.requester, request=req, evidence="15 tickets.")
    assert _notices(cast.requester) == []


def test_withdrawing_someone_elses_request_needs_a_reason_and_tells_the_requester(cast):
    req = request_at(cast, "people")
    api = APIClient()
    api.force_authenticate(cast.alice)
    url = f"/api/v1/intake-requests/{req.pk}/withdraw/"
    # when Alice withdraws Mei's request without a reason, it is refused and stays open
    refused = api.post(url, {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "reason_required"
    assert IntakeRequest.objects.get(pk=req.pk).is_open
    assert _notices(cast.requester) == []
    # when she says why, it closes and Mei is told, with the reason
    done = api.post(url, {"note": "Duplicate of #4."}, format="json")
    assert done.status_code == 200
    assert IntakeRequest.objects.get(pk=req.pk).outcome == "withdrawn"
    assert _notices(cast.requester) == [
        (
            "Your request was withdrawn: Push without engineers",
            "Alice Approver withdrew it: Duplicate of #4.",
        )
    ]
    assert AuditEvent.objects.filter(action="intake.request.withdrawn").count() == 1


def test_the_requester_withdraws_their_own_request_without_a_reason_and_no_notice(cast):
    req = request_at(cast, "people")
    services.intake_withdraw(actor=cast.requester, request=req)
    assert IntakeRequest.objects.get(pk=req.pk).outcome == "withdrawn"
    assert _notices(cast.requester) == []


def test_the_page_asks_a_decider_for_the_reason_and_withdraws_with_it(cast):
    req = request_at(cast, "people")
    client = Client()
    client.force_login(cast.alice)
    page = client.get(reverse("intake:request_detail", args=[req.pk])).content.decode()
    assert 'data-testid="withdraw-reason"' in page
    url = reverse("intake:withdraw", args=[req.pk])
    # without a reason: an error, still open
    client.post(url, {"confirmed": "1"})
    assert IntakeRequest.objects.get(pk=req.pk).is_open
    # the confirmation says the requester is told
    asked = client.post(url, {"note": "Out of budget this year."}).content.decode()
    assert "Mei Tanaka is told, with your reason." in asked
    client.post(url, {"note": "Out of budget this year.", "confirmed": "1"})
    assert IntakeRequest.objects.get(pk=req.pk).outcome == "withdrawn"
    assert _notices(cast.requester)[0][1] == "Alice Approver withdrew it: Out of budget this year."
    # the requester's own page asks for no reason
    mine = request_at(cast, "people")
    own = Client()
    own.force_login(cast.requester)
    text = own.get(reverse("intake:request_detail", args=[mine.pk])).content.decode()
    assert 'data-testid="withdraw-reason"' not in text
