"""“My access” and a person's page give the true reason for each capability not held (revoked
in a review, by whom and when; their own grant gives it only after it ends; another role
gives it; no role does), what is held first and in words, and a pending request instead of
a second “Request it”."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.access import services as svc
from apps.access.rules import access_recompute, explain
from tests.factories import UserFactory, person_with

pytestmark = pytest.mark.django_db

AUDIT = "audit.view"


def _status(person, code, viewer=None):
    return next(s for s in explain(person, viewer=viewer) if s.code == code)


def _row(page: str, code: str) -> str:
    match = re.search(rf'<tr data-capability="{re.escape(code)}">(.*?)</tr>', page, re.S)
    assert match, code
    return match.group(1)


@pytest.fixture
def marketing_operations(admin):
    dana = person_with(admin, "accounts.manage_access", name="Dana Whitfield")
    role = svc.role_create(actor=admin, name="Marketing Operations", owner=dana)
    svc.role_capability_set(actor=admin, role=role, capability=AUDIT)
    svc.role_capability_set(actor=admin, role=role, capability="tools.view")
    return role


def test_a_capability_revoked_in_a_review_says_so_with_who_and_when_though_the_role_stays(
    admin, marketing_operations, client
):
    # given: Dana revokes Leo's audit.view in a review of audit.view
    dana = marketing_operations.owner
    leo = UserFactory(full_name="Leo Martins")
    svc.role_assign(actor=admin, user=leo, role=marketing_operations)
    campaign = svc.review_campaign_create(
        actor=admin,
        name="Q4 2026 access review",
        capabilities=[AUDIT],
        deadline=timezone.now() + dt.timedelta(days=10),
        unreviewed_policy="keep",
    )
    svc.review_item_decide(actor=dana, item=campaign.items.get(), decision="revoke")

    # when
    status = _status(leo, AUDIT, viewer=dana)

    # then
    today = timezone.localdate()
    assert status.status == "lacking"
    assert status.reasons == [
        "Revoked in the access review “Q4 2026 access review” by Dana Whitfield "
        f"on {today:%Y-%m-%d}"
    ]
    # and on his page, under "Taken away", not "No role gives it"
    client.force_login(dana)
    page = client.get(reverse("accounts:user_detail", args=[leo.pk])).content.decode()
    row = _row(page, AUDIT)
    assert "Revoked in the access review" in row
    assert "No role gives it" not in row
    assert 'data-group="revoked"' in page


def test_a_capability_another_role_gives_names_that_role_to_the_person_themselves(
    admin, marketing_operations
):
    # given: Jonas holds a role without audit.view
    jonas = person_with(admin, "tools.view", name="Jonas Berg")

    # when
    status = _status(jonas, AUDIT, viewer=jonas)

    # then
    assert status.status == "lacking"
    assert status.reasons == ["None of your roles gives it; the Marketing Operations role does"]
    # and a manager reading his access reads "their"
    assert _status(jonas, AUDIT, viewer=admin).reasons == [
        "None of their roles gives it; the Marketing Operations role does"
    ]


def test_a_capability_no_role_gives_says_so(admin, marketing_operations):
    jonas = UserFactory(full_name="Jonas Berg")
    assert _status(jonas, "erasure.approve", viewer=jonas).reasons == ["No role gives it"]


def test_a_time_bound_grant_that_ended_says_when_and_why(admin):
    # given: a role held for an hour, recomputed after it
    role = svc.role_create(actor=admin, name="Auditors", owner=admin)
    svc.role_capability_set(actor=admin, role=role, capability=AUDIT)
    jonas = UserFactory(full_name="Jonas Berg")
    svc.role_assign(
        actor=admin, user=jonas, role=role, ends_at=timezone.now() + dt.timedelta(hours=1)
    )
    later = timezone.now() + dt.timedelta(hours=2)
    access_recompute(user=jonas, now=later)

    # when
    status = _status(jonas, AUDIT, viewer=jonas)

    # then
    assert status.reasons[0] == (
        f"Held until {timezone.localdate(later):%Y-%m-%d}: time-bound access ended"
    )


def test_my_access_shows_a_pending_request_with_who_decides_instead_of_request_it(
    admin, user_client, user
):
    # given: the person's manager holds audit.view; a request waits for him
    sam = person_with(admin, AUDIT, name="Sam Okafor")
    user.manager = sam
    user.save()
    request = svc.access_request_create(
        requester=user, capability=AUDIT, duration_days=14, justification="Checking a change."
    )

    # when
    page = user_client.get(reverse("access:my_access")).content.decode()

    # then
    row = _row(page, AUDIT)
    today = timezone.localdate()
    assert f"Requested on {today:%Y-%m-%d}, waiting for Sam Okafor" in row
    assert "Request it" not in row
    assert reverse("access:request_detail", args=[request.pk]) in row
    # other capabilities can still be asked for
    assert "Request it" in _row(page, "tools.manage")


def test_my_access_lists_what_is_held_first_in_words(admin, marketing_operations, client):
    # given: Leo holds audit.view and tools.view, both late in the alphabet of codes
    leo = UserFactory(full_name="Leo Martins")
    svc.role_assign(actor=admin, user=leo, role=marketing_operations)
    client.force_login(leo)

    # when
    page = client.get(reverse("access:my_access")).content.decode()

    # then: the first rows are the capabilities he holds, by name
    codes = re.findall(r'<tr data-capability="([^"]+)">', page)
    assert set(codes[:2]) == {AUDIT, "tools.view"}
    groups = re.findall(r'<tbody data-group="([^"]+)">', page)
    assert groups[0] == "held"
    assert "Read the audit log" in _row(page, AUDIT)


def test_your_roles_shows_when_an_early_approved_request_starts(admin, client):
    # given: audit.view needs 30 days of tenure; Jonas, 12 days in, is approved early
    role = svc.role_create(actor=admin, name="Lifecycle Marketing", owner=admin)
    svc.role_capability_set(actor=admin, role=role, capability=AUDIT, min_tenure_days=30)
    jonas = UserFactory(
        full_name="Jonas Berg", start_date=timezone.localdate() - dt.timedelta(days=12)
    )
    request = svc.access_request_create(
        requester=jonas, capability=AUDIT, duration_days=60, justification="Checking a change."
    )
    svc.access_request_approve(actor=admin, request=request)
    client.force_login(jonas)

    # when
    page = client.get(reverse("access:my_access")).content.decode()

    # then
    starts = timezone.localdate() + dt.timedelta(days=18)
    roles_card = page[page.index("Your roles") : page.index("Your trainings")]
    assert "Read the audit log" in roles_card
    assert f"starts on {starts:%Y-%m-%d}" in roles_card


def test_a_capability_own_role_gives_only_after_its_grant_ends_says_so_not_no_role(
    admin, marketing_operations, client
):
    # given: Marketing Operations gives tools.manage after 90 days' tenure; Chloé, 45 days in,
    # is approved the role for 30 days, so her grant ends before her tenure reaches 90 days
    svc.role_capability_set(
        actor=admin, role=marketing_operations, capability="tools.manage", min_tenure_days=90
    )
    dana = marketing_operations.owner
    start = timezone.localdate() - dt.timedelta(days=45)
    chloe = UserFactory(full_name="Chloé Dubois", start_date=start)
    request = svc.access_request_create(
        requester=chloe,
        role=marketing_operations,
        duration_days=30,
        justification="Covering the tools backlog.",
    )
    svc.access_request_approve(actor=dana, request=request)
    assert _status(chloe, AUDIT).status == "granted"

    # when
    client.force_login(chloe)
    response = client.get("/api/v1/me/permissions/")

    # then: the reason is the role she holds and when it would give it
    assert response.status_code == 200
    reasons = {c["code"]: c["reasons"] for c in response.json()["capabilities"]}
    ends_on = timezone.localdate(chloe.assignments.get().ends_at)
    assert reasons["tools.manage"] == [
        "The Marketing Operations role gives it after 90 days' tenure "
        f"(on {start + dt.timedelta(days=90):%Y-%m-%d}), after your grant ends on "
        f"{ends_on:%Y-%m-%d}"
    ]
    assert _status(chloe, "tools.manage", viewer=dana).lacking == "after_grant_ends"
    # and her page shows it in its own section, not under "Given by no role"
    page = client.get(reverse("access:my_access")).content.decode()
    row = _row(page, "tools.manage")
    assert "after your grant ends" in row
    assert "No role gives it" not in row
    section = page[page.index('data-group="after_grant_ends"') :]
    assert 'data-capability="tools.manage"' in section[: section.index("</tbody>")]
    # and a capability no role gives still says so
    assert _status(chloe, "erasure.approve", viewer=chloe).reasons == ["No role gives it"]
