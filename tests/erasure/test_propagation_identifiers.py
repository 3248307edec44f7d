"""Vendor erasure is asked with every identifier of the person: the signed webhook gets all
of them (one value of each type a call, its documented format), and vendors that find people
by some identifiers get one call for each of those, every email and every anonymous id."""

from __future__ import annotations

import pytest

from apps.erasure import services
from apps.erasure.models import TaskStatus
from apps.identity.services import link_record
from tests.destinations.vendors import FakeVendor

from .conftest import destination_at, verified
from .test_propagation import run_due

EMAILS = {"lena.fischer@example.de", "lena@fischer.example"}
ANONYMOUS = {"ajs-5f1c9e2a", "ajs-lena-new-device"}


@pytest.fixture
def lena(db):
    """Lena: cus_48213 with two emails and two devices (all deterministic links)."""
    for email in sorted(EMAILS):
        link_record(a=("user_id", "cus_48213"), b=("email", email), rule="identify")
    for anon in sorted(ANONYMOUS):
        link_record(a=("user_id", "cus_48213"), b=("anonymous_id", anon), rule="identify")


def _erase(admin):
    request = services.request_approve(actor=admin, request=verified(admin, "user_id:cus_48213"))
    run_due()
    return request


def test_the_signed_webhook_receives_every_email_and_every_anonymous_id(admin, lena, tool):
    with FakeVendor("webhook") as hook:
        destination_at(admin, tool, hook)
        request = _erase(admin)
        calls = [r.body for r in hook.requests if r.path == "/hooks/martech/erasure"]

    sent = {(kind, value) for call in calls for kind, value in call["identifiers"].items()}
    assert sent == (
        {("user_id", "cus_48213")}
        | {("email", e) for e in EMAILS}
        | {("anonymous_id", a) for a in ANONYMOUS}
    )
    # the documented format: one string value of each type a call, as few calls as that takes
    assert len(calls) == 2
    assert all(call["type"] == "delete" for call in calls)
    assert all(isinstance(v, str) for call in calls for v in call["identifiers"].values())
    assert request.tasks.get().status == TaskStatus.DONE


def test_vendors_that_erase_by_some_identifiers_are_asked_for_each_email_and_anonymous_id(
    admin, lena, tool
):
    with FakeVendor("braze") as braze, FakeVendor("hubspot") as hubspot:
        destination_at(admin, tool, braze)
        destination_at(admin, tool, hubspot)
        request = _erase(admin)
        to_braze = [r.body for r in braze.requests if r.path == "/users/delete"]
        to_hubspot = [r.body for r in hubspot.requests if r.path.endswith("/gdpr-delete")]

    # Braze: the user id, each email, and the alias profile of each anonymous id
    assert {"external_ids": ["cus_48213"]} in to_braze
    emails = {b["email_addresses"][0]["email"] for b in to_braze if "email_addresses" in b}
    assert emails == EMAILS
    aliases = [b["user_aliases"][0] for b in to_braze if "user_aliases" in b]
    assert {a["alias_name"] for a in aliases} == ANONYMOUS
    assert {a["alias_label"] for a in aliases} == {"anonymous_id"}
    assert len(to_braze) == 5
    # HubSpot finds people by email only: each of them
    assert sorted(b["objectId"] for b in to_hubspot) == sorted(EMAILS)
    assert {t.status for t in request.tasks.all()} == {TaskStatus.DONE}
