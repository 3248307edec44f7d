"""Access requests and reviews tell the people concerned: whoever may decide a request, the
requester of its outcome, each reviewer of what waits for them, and a person of what a
review took away. In the console and by email."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.access import services as svc
from apps.access.rules import access_recompute
from apps.accounts.models import Notification, User
from tests.factories import UserFactory, person_with

pytestmark = pytest.mark.django_db

AUDIT = "audit.view"


def _titles(person: User) -> list[str]:
    return list(Notification.objects.filter(user=person).values_list("title", flat=True))


def _ask(requester: User, capability: str = AUDIT, days: int = 14):
    return svc.access_request_create(
        requester=requester,
        capability=capability,
        duration_days=days,
        justification="Checking who changed the onboarding journey settings.",
    )


@pytest.fixture
def sam(admin):
    """A manager who holds audit.view, so he may decide his reports' requests for it."""
    return person_with(admin, AUDIT, name="Sam Okafor")


@pytest.fixture
def jonas(sam):
    return UserFactory(full_name="Jonas Berg", manager=sam)


def test_a_request_notifies_the_manager_who_may_decide_it_in_the_console_and_by_email(
    admin, sam, jonas, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        request = _ask(jonas)

    # then: Sam, who holds what is asked for, is told; nobody else is
    notice = Notification.objects.get(user=sam)
    assert notice.title == "Jonas Berg asks for “Read the audit log” (audit.view) for 14 days"
    assert "Checking who changed the onboarding journey settings." in notice.body
    assert notice.url == reverse("access:request_detail", args=[request.pk])
    assert notice.read_at is None
    assert Notification.objects.exclude(user=sam).count() == 0
    assert [m.to for m in mail.outbox] == [[sam.email]]
    assert mail.outbox[0].subject == f"[MarTech Console] {notice.title}"


def test_a_request_its_manager_may_not_decide_notifies_the_people_who_manage_access(
    admin, django_capture_on_commit_callbacks
):
    # given: a manager without audit.view, and an access administrator besides the superuser
    manager = UserFactory(full_name="Ana Costa")
    requester = UserFactory(full_name="Chloé Dubois", manager=manager)
    dana = person_with(admin, "accounts.manage_access", name="Dana Whitfield")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        request = _ask(requester)

    # then: exactly the people the approval rule names are told
    approvers = svc.access_request_approvers(request)
    assert {a.pk for a in approvers} == {admin.pk, dana.pk}
    told = set(Notification.objects.values_list("user_id", flat=True))
    assert told == {admin.pk, dana.pk}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([admin.email, dana.email])


def test_an_approval_tells_the_requester_who_approved_it_and_until_when(
    admin, sam, jonas, django_capture_on_commit_callbacks
):
    # given
    request = _ask(jonas)
    mail.outbox.clear()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        svc.access_request_approve(actor=sam, request=request, note="Go ahead.")

    # then
    notice = Notification.objects.get(user=jonas)
    ends = timezone.localdate(timezone.now() + dt.timedelta(days=14))
    assert notice.title == (
        "Your request for “Read the audit log” (audit.view) was approved by Sam Okafor"
    )
    assert f"You have it until {ends:%Y-%m-%d}." in notice.body
    assert "Sam Okafor: Go ahead." in notice.body
    assert notice.url == reverse("access:request_detail", args=[request.pk])
    assert [m.to for m in mail.outbox] == [[jonas.email]]


def test_an_early_approval_tells_the_requester_the_day_it_starts(
    admin, django_capture_on_commit_callbacks
):
    # given: audit.view needs 30 days in every role; Jonas is 12 days in
    role = svc.role_create(actor=admin, name="Lifecycle Marketing", owner=admin)
    svc.role_capability_set(actor=admin, role=role, capability=AUDIT, min_tenure_days=30)
    sam = person_with(admin, AUDIT, name="Sam Okafor")
    jonas = UserFactory(
        full_name="Jonas Berg",
        manager=sam,
        start_date=timezone.localdate() - dt.timedelta(days=12),
    )
    request = _ask(jonas, days=60)

    # when
    svc.access_request_approve(actor=sam, request=request)

    # then
    starts = timezone.localdate() + dt.timedelta(days=18)
    body = Notification.objects.get(user=jonas).body
    assert f"It starts on {starts:%Y-%m-%d}, when you reach the tenure it needs." in body


def test_a_rejection_tells_the_requester_with_the_deciders_note(
    admin, sam, jonas, django_capture_on_commit_callbacks
):
    # given
    request = _ask(jonas)
    mail.outbox.clear()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        svc.access_request_reject(actor=sam, request=request, note="Ask Mei for the export.")

    # then
    notice = Notification.objects.get(user=jonas)
    assert notice.title == (
        "Your request for “Read the audit log” (audit.view) was rejected by Sam Okafor"
    )
    assert notice.body == "Sam Okafor: Ask Mei for the export."
    assert [m.to for m in mail.outbox] == [[jonas.email]]


def test_a_request_nobody_decided_tells_the_requester_it_lapsed(admin, sam, jonas):
    # given
    request = _ask(jonas)

    # when
    svc.access_requests_expire(now=request.expires_at + dt.timedelta(minutes=1))

    # then
    assert _titles(jonas) == ["Your request for “Read the audit log” (audit.view) lapsed undecided"]


def test_a_request_for_a_role_names_the_role(admin, sam, jonas):
    # given: a role of Sam's own
    role = svc.role_create(actor=admin, name="Lifecycle Marketing", owner=sam)
    svc.role_capability_set(actor=admin, role=role, capability=AUDIT)

    # when
    svc.access_request_create(
        requester=jonas, role=role, duration_days=1, justification="Cover for Mei."
    )

    # then
    assert _titles(sam) == ["Jonas Berg asks for the Lifecycle Marketing role for 1 day"]


def _audit_readers(admin, owner):
    role = svc.role_create(actor=admin, name="Marketing Operations", owner=owner)
    svc.role_capability_set(actor=admin, role=role, capability=AUDIT)
    svc.role_capability_set(actor=admin, role=role, capability="tools.view")
    return role


def test_starting_a_review_tells_each_reviewer_once_what_waits_for_them(
    admin, django_capture_on_commit_callbacks
):
    # given: Dana owns a role two people hold
    dana = UserFactory(full_name="Dana Whitfield")
    role = _audit_readers(admin, dana)
    leo = UserFactory(full_name="Leo Martins")
    mei = UserFactory(full_name="Mei Tanaka")
    for person in (leo, mei):
        svc.role_assign(actor=admin, user=person, role=role)
    deadline = timezone.now() + dt.timedelta(days=10)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        campaign = svc.review_campaign_create(
            actor=admin,
            name="Q4 2026 access review",
            capabilities=[AUDIT],
            deadline=deadline,
            unreviewed_policy="keep",
        )

    # then: Dana is told once, with both items; the admin who started it is not told
    notice = Notification.objects.get(user=dana)
    assert notice.title == (
        "Access review “Q4 2026 access review”: 2 items for you to decide by "
        f"{timezone.localdate(deadline):%Y-%m-%d}"
    )
    assert notice.body == (
        "Keep or revoke the access of Leo Martins, Mei Tanaka. "
        "What is not reviewed by the deadline is kept."
    )
    assert notice.url == reverse("access:review_detail", args=[campaign.pk])
    assert _titles(admin) == []
    assert [m.to for m in mail.outbox] == [[dana.email]]


def test_a_review_revoking_one_capability_tells_the_person_and_keeps_the_role(admin, client):
    # given: Leo's role gives audit.view and tools.view; the review is about audit.view
    dana = UserFactory(full_name="Dana Whitfield")
    role = _audit_readers(admin, dana)
    leo = UserFactory(full_name="Leo Martins")
    svc.role_assign(actor=admin, user=leo, role=role)
    campaign = svc.review_campaign_create(
        actor=admin,
        name="Q4 2026 access review",
        capabilities=[AUDIT],
        deadline=timezone.now() + dt.timedelta(days=10),
        unreviewed_policy="keep",
    )
    item = campaign.items.get()

    # when: Dana revokes it in the browser
    client.force_login(dana)
    response = client.post(
        reverse("access:review_item_decide", args=[item.pk]),
        {"decision": "revoke", "note": "Moved to brand work.", "confirmed": "1"},
        follow=True,
    )

    # then: the page says only audit.view went; Leo is told the same
    page = response.content.decode()
    assert (
        "Leo Martins&#x27;s “Read the audit log” (audit.view): revoked; the rest of the "
        "Marketing Operations role stays." in page
    )
    notice = Notification.objects.get(user=leo)
    assert notice.title == (
        "“Read the audit log” (audit.view) was withdrawn from your Marketing Operations role "
        "in the access review “Q4 2026 access review”"
    )
    assert notice.body == "Dana Whitfield: Moved to brand work."
    assert notice.url == reverse("access:my_access")


def test_a_review_revoking_a_whole_role_says_the_role_went(admin, client):
    # given: the review is about the role itself
    dana = UserFactory(full_name="Dana Whitfield")
    role = _audit_readers(admin, dana)
    leo = UserFactory(full_name="Leo Martins")
    svc.role_assign(actor=admin, user=leo, role=role)
    campaign = svc.review_campaign_create(
        actor=admin,
        name="Q4 2026 access review",
        roles=[role],
        deadline=timezone.now() + dt.timedelta(days=10),
        unreviewed_policy="keep",
    )

    # when
    client.force_login(dana)
    response = client.post(
        reverse("access:review_item_decide", args=[campaign.items.get().pk]),
        {"decision": "revoke", "confirmed": "1"},
        follow=True,
    )

    # then
    assert "Leo Martins&#x27;s Marketing Operations role: revoked." in response.content.decode()
    assert _titles(leo) == [
        "Your Marketing Operations role was revoked in the access review “Q4 2026 access review”"
    ]


def _give(admin, person: User, *codes: str) -> None:
    role = svc.role_create(actor=admin, name=f"Role of {person.full_name}", owner=admin)
    for code in codes:
        svc.role_capability_set(actor=admin, role=role, capability=code)
    svc.role_assign(actor=admin, user=person, role=role)


def test_a_manager_who_gains_what_was_asked_for_later_is_told_of_the_request_once(admin):
    # given: Jonas asks for the audit log while his manager Ines does not hold it
    ines = UserFactory(full_name="Ines Duarte", start_date=timezone.localdate() - dt.timedelta(400))
    jonas = UserFactory(full_name="Jonas Berg", manager=ines)
    request = _ask(jonas)
    assert _titles(ines) == []

    # when: Ines is given a role with the audit log, and her access is computed again later
    _give(admin, ines, AUDIT)
    access_recompute(user=ines)

    # then: she hears of the request that now waits for her, once
    notice = Notification.objects.get(user=ines)
    assert notice.title == "Jonas Berg asks for “Read the audit log” (audit.view) for 14 days"
    assert notice.url == reverse("access:request_detail", args=[request.pk])


def test_gaining_a_capability_tells_nobody_of_requests_they_may_not_decide(admin):
    # given: Jonas's request is his manager Sam's to decide
    sam = person_with(admin, AUDIT, name="Sam Okafor")
    jonas = UserFactory(full_name="Jonas Berg", manager=sam)
    _ask(jonas)
    stranger = UserFactory(
        full_name="Pia Stranger", start_date=timezone.localdate() - dt.timedelta(400)
    )

    # when: someone else gains the audit log too
    _give(admin, stranger, AUDIT)

    # then
    assert _titles(stranger) == []


def test_a_request_decided_or_lapsed_is_not_told_to_a_new_approver(admin):
    # given: a request rejected before Ines could decide it
    ines = UserFactory(full_name="Ines Duarte", start_date=timezone.localdate() - dt.timedelta(400))
    jonas = UserFactory(full_name="Jonas Berg", manager=ines)
    svc.access_request_reject(actor=admin, request=_ask(jonas), note="Not now")

    # when
    _give(admin, ines, AUDIT)

    # then
    assert _titles(ines) == []
