"""Withdrawing a request and removing a stakeholder or a candidate first say what goes."""

from django.test import Client
from django.urls import reverse

from apps.intake.models import Candidate, IntakeRequest, Stakeholder

from .conftest import request_at


def _client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_withdrawing_without_confirmation_says_it_closes_for_good_and_keeps_it_open(cast):
    req = request_at(cast, "people")
    client = _client(cast.requester)
    url = reverse("intake:withdraw", args=[req.pk])

    page = client.post(url)

    text = page.content.decode()
    assert "Withdraw “Push without engineers”?" in text
    assert "cannot be reopened" in text
    assert IntakeRequest.objects.get(pk=req.pk).is_open
    client.post(url, {"confirmed": "1"})
    assert IntakeRequest.objects.get(pk=req.pk).outcome == "withdrawn"


def test_removing_a_stakeholder_asks_first(cast):
    req = request_at(cast, "people")
    stakeholder = req.stakeholders.get(person=cast.bob)
    client = _client(cast.requester)
    url = reverse("intake:stakeholder_remove", args=[stakeholder.pk])

    page = client.post(url)

    assert "Bob Approver is no longer named as approver." in page.content.decode()
    assert Stakeholder.objects.filter(pk=stakeholder.pk).exists()
    client.post(url, {"confirmed": "1"})
    assert not Stakeholder.objects.filter(pk=stakeholder.pk).exists()


def test_removing_the_preferred_candidate_names_its_successor_first(cast):
    req = request_at(cast, "system", candidates=["OneSignal", "Airship"])
    onesignal = req.candidates.get(name="OneSignal")
    client = _client(cast.requester)
    url = reverse("intake:candidate_remove", args=[onesignal.pk])

    page = client.post(url)

    assert "It is the preferred one; Airship becomes preferred." in page.content.decode()
    assert Candidate.objects.filter(pk=onesignal.pk).exists()
    client.post(url, {"confirmed": "1"})
    assert not Candidate.objects.filter(pk=onesignal.pk).exists()
