"""Where a person reads a capability, they read its label (“Send to production
destinations”), not its code (``destinations.send_production``): access requests, people's
access, reviews and the refusal of something one may not do."""

import re

import pytest
from django.urls import reverse

from apps.access import services as svc
from apps.access.rules import access_recompute
from tests.factories import UserFactory, person_with

pytestmark = pytest.mark.django_db

CODE = "destinations.send_production"
LABEL = "Send to production destinations"


def _text(html: str) -> str:
    """The words on the page, without markup, scripts or attributes."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def asked(admin):
    manager = person_with(admin, "accounts.manage_access", CODE, name="Sam Okafor")
    jonas = UserFactory(full_name="Jonas Berg", manager=manager)
    request = svc.access_request_create(
        requester=jonas, capability=CODE, duration_days=7, justification="Launch week."
    )
    return manager, jonas, request


def test_the_access_request_pages_name_the_capability_by_its_label(client, asked):
    # given
    manager, _jonas, request = asked
    client.force_login(manager)

    # when
    detail = _text(client.get(reverse("access:request_detail", args=[request.pk])).content.decode())
    listing = _text(client.get(reverse("access:request_list") + "?status=pending").content.decode())

    # then: the label names it; the code is at most a small aside next to it
    assert f"Request #{request.pk}: {LABEL}" in detail
    assert f"“{LABEL}” {CODE}" in detail
    assert LABEL in listing
    assert CODE not in listing


def test_a_persons_access_names_a_single_capability_by_its_label(admin, client, asked):
    # given: Jonas was given the capability on its own (his approved request)
    manager, jonas, request = asked
    svc.access_request_approve(actor=manager, request=request, note="")
    access_recompute(user=jonas)
    client.force_login(admin)

    # when
    people = _text(client.get(reverse("accounts:user_list")).content.decode())
    page = _text(client.get(reverse("accounts:user_detail", args=[jonas.pk])).content.decode())

    # then
    assert LABEL in people
    assert CODE not in people
    assert LABEL in page


def test_being_refused_names_the_missing_capability_by_its_label(client):
    # given: someone with no access to the audit log
    client.force_login(UserFactory(full_name="Nora New"))

    # when
    page = client.get(reverse("audit:event_list"))

    # then
    assert page.status_code == 403
    assert "You need “Read the audit log” to" in page.content.decode()
    assert "audit.view capability" not in page.content.decode()
