"""Grants that maintain themselves: tenure, trainings, birthright rules, expiry, requests,
reviews, and one answer to "may this person do this?" everywhere."""

import datetime as dt

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone
from rest_framework.test import APIClient

from apps.access import services as svc
from apps.access.models import AccessRequestStatus, Grant
from apps.access.rules import access_recompute, explain, upcoming_messages, user_can
from apps.access.tasks import access_housekeeping_task, access_recompute_all_task
from apps.accounts.models import User
from apps.accounts.services import api_token_create, user_set_active, user_update
from apps.audit.models import AuditEvent
from martech.common.errors import ApplicationError, PermissionDeniedError
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def fresh(user: User) -> User:
    """Reload a person so no cached capabilities hide a change."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def su(db):
    return AdminFactory()


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def auditor_role(su, clock):
    role = svc.role_create(actor=su, name="Lifecycle Marketer", owner=su)
    svc.role_capability_set(actor=su, role=role, capability="audit.view", min_tenure_days=90)
    return role


def test_tenure_grant_appears_when_the_daily_job_runs_on_the_day_it_is_reached(
    su, clock, auditor_role
):
    # given: 88 days of tenure
    person = UserFactory(start_date=START.date() - dt.timedelta(days=88))
    svc.role_assign(actor=su, user=person, role=auditor_role)
    assert not fresh(person).has_perm("audit.view")
    assert upcoming_messages(fresh(person)) == [
        "In 2 days (on 2026-03-03) you will be able to read the audit log."
    ]
    # when: a day later it is still one day short
    clock.shift(dt.timedelta(days=1))
    access_recompute_all_task()
    assert not fresh(person).has_perm("audit.view")
    # and on the day the tenure is reached
    clock.shift(dt.timedelta(days=1))
    result = access_recompute_all_task()
    # then
    assert result["granted"] == 1
    grant = Grant.objects.get(user=person, capability="audit.view")
    assert grant.reason == "Lifecycle Marketer role, tenure 90 days reached on 2026-03-03"
    assert fresh(person).has_perm("audit.view")
    assert AuditEvent.objects.filter(
        action="accounts.grant.granted", target_id=str(grant.pk)
    ).exists()


def test_training_requirement_grants_on_completion_and_lapses_on_expiry(su, clock):
    role = svc.role_create(actor=su, name="Sender", owner=su)
    training = svc.training_create(actor=su, name="Production sends", validity_days=30)
    svc.role_capability_set(
        actor=su, role=role, capability="accounts.view_access", trainings=[training]
    )
    person = UserFactory()
    svc.role_assign(actor=su, user=person, role=role)
    status = {s.code: s for s in explain(fresh(person))}["accounts.view_access"]
    assert status.status == "upcoming"
    assert status.reasons == ["Sender role: after completing “Production sends”"]
    # when the training is completed, access applies at once
    svc.training_completion_record(
        actor=su, user=person, training=training, completed_on=START.date() - dt.timedelta(days=10)
    )
    grant = Grant.objects.get(user=person, revoked_at__isnull=True)
    assert "training “Production sends” valid until 2026-03-21" in grant.reason
    assert fresh(person).has_perm("accounts.view_access")
    # when the completion expires, the grant lapses by itself, before any job runs
    clock.move_to(dt.datetime(2026, 3, 21, 0, 0, 1, tzinfo=dt.UTC))
    assert not fresh(person).has_perm("accounts.view_access")
    # and the hourly job records the revocation with its reason
    access_housekeeping_task()
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert grant.revoke_reason == "a required training expired"


def test_birthright_rule_follows_team_changes(su, clock):
    role = svc.role_create(actor=su, name="Growth", owner=su)
    svc.role_capability_set(actor=su, role=role, capability="audit.view")
    svc.birthright_rule_add(actor=su, role=role, team="Growth")
    joiner = UserFactory(team="Growth")
    access_recompute(user=joiner)
    assert fresh(joiner).has_perm("audit.view")
    # moving team removes the role and its grant at once
    user_update(actor=su, user=fresh(joiner), team="Brand")
    assert not fresh(joiner).has_perm("audit.view")
    revoked = Grant.objects.get(user=joiner)
    assert revoked.revoke_reason == "no birthright rule matches any more"


def test_new_person_gets_birthright_roles_on_creation(su, clock):
    from apps.accounts.services import user_create

    role = svc.role_create(actor=su, name="Privacy", owner=su)
    svc.role_capability_set(actor=su, role=role, capability="accounts.view_access")
    svc.birthright_rule_add(actor=su, role=role, job_title_contains="privacy")
    person = user_create(
        actor=su, email="p@acme.example", full_name="P", job_title="Privacy Officer"
    )
    assert fresh(person).has_perm("accounts.view_access")


def test_deactivation_removes_every_grant_and_reactivation_restores_them(su, clock, auditor_role):
    person = UserFactory(start_date=START.date() - dt.timedelta(days=400))
    svc.role_assign(actor=su, user=person, role=auditor_role)
    user_set_active(actor=su, user=fresh(person), active=False)
    assert Grant.objects.effective().filter(user=person).count() == 0
    assert Grant.objects.get(user=person).revoke_reason == "person deactivated"
    user_set_active(actor=su, user=fresh(person), active=True)
    assert fresh(person).has_perm("audit.view")


def test_time_bound_role_ends_by_itself(su, clock, auditor_role):
    person = UserFactory(start_date=START.date() - dt.timedelta(days=400))
    svc.role_assign(actor=su, user=person, role=auditor_role, ends_at=START + dt.timedelta(days=3))
    assert fresh(person).has_perm("audit.view")
    clock.shift(dt.timedelta(days=3, seconds=1))
    assert not fresh(person).has_perm("audit.view")
    access_housekeeping_task()
    assert AuditEvent.objects.filter(
        action="accounts.assignment.ended", metadata__reason="time-bound access ended"
    ).exists()


def test_removing_a_role_capability_revokes_it_from_holders(su, clock, auditor_role):
    person = UserFactory(start_date=START.date() - dt.timedelta(days=400))
    svc.role_assign(actor=su, user=person, role=auditor_role)
    svc.role_capability_remove(actor=su, rule=auditor_role.capability_rules.get())
    assert not fresh(person).has_perm("audit.view")
    assert Grant.objects.get(user=person).revoke_reason == "the role's rules no longer allow it"


def test_unknown_capability_is_refused(su, clock, auditor_role):
    with pytest.raises(ApplicationError) as error:
        svc.role_capability_set(actor=su, role=auditor_role, capability="tools.fly")
    assert error.value.code == "unknown_capability"


def test_only_access_managers_change_roles(clock, auditor_role):
    with pytest.raises(PermissionDeniedError):
        svc.role_update(actor=UserFactory(), role=auditor_role, description="mine now")


def test_one_answer_in_python_templates_and_the_api(su, clock, auditor_role):
    person = UserFactory(start_date=START.date() - dt.timedelta(days=400))
    svc.role_assign(actor=su, user=person, role=auditor_role)
    person = fresh(person)
    template = Template("{% if perms.audit.view %}yes{% else %}no{% endif %}")
    from django.contrib.auth.context_processors import PermWrapper

    assert user_can(person, "audit.view") is True
    assert person.has_perm("audit.view") is True
    assert template.render(Context({"perms": PermWrapper(person)})) == "yes"
    _, raw = api_token_create(user=person, name="x", days=1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/audit-events/").status_code == 200
    assert person.has_perm("accounts.manage_access") is False
    assert template.render(Context({"perms": PermWrapper(UserFactory())})) == "no"


# --- Requests -------------------------------------------------------------------------------


def test_manager_approves_a_time_bound_request_that_ends_by_itself(su, clock):
    manager = UserFactory(full_name="Sam Okafor")
    leads = svc.role_create(actor=su, name="Leads", owner=su)
    svc.role_capability_set(actor=su, role=leads, capability="audit.view")
    svc.role_assign(actor=su, user=manager, role=leads)
    person = UserFactory(manager=manager)
    request = svc.access_request_create(
        requester=person, capability="audit.view", justification="QBR", duration_days=7
    )
    with pytest.raises(PermissionDeniedError):
        svc.access_request_approve(actor=person, request=request)
    with pytest.raises(PermissionDeniedError):
        svc.access_request_approve(actor=UserFactory(), request=request)
    svc.access_request_approve(actor=manager, request=request, note="ok")
    grant = Grant.objects.get(user=person, revoked_at__isnull=True)
    expected = f"Access request #{request.pk} approved by Sam Okafor, until 2026-03-08"
    assert grant.reason == expected
    assert fresh(person).has_perm("audit.view")
    clock.shift(dt.timedelta(days=7, seconds=1))
    assert not fresh(person).has_perm("audit.view")


def test_role_owner_can_approve_role_requests(su, clock, auditor_role):
    owner = UserFactory(start_date=START.date() - dt.timedelta(days=400))
    svc.role_assign(actor=su, user=owner, role=auditor_role)  # holds what the role gives
    svc.role_update(actor=su, role=auditor_role, owner=owner)
    person = UserFactory(start_date=START.date() - dt.timedelta(days=400))
    request = svc.access_request_create(
        requester=person, role=auditor_role, justification="x", duration_days=3
    )
    assert [a.pk for a in svc.access_request_approvers(request)] == [owner.pk]
    svc.access_request_approve(actor=owner, request=request)
    assert fresh(person).has_perm("audit.view")


def test_pending_requests_expire_after_30_days(clock):
    person = UserFactory()
    request = svc.access_request_create(
        requester=person, capability="audit.view", justification="x", duration_days=3
    )
    clock.shift(dt.timedelta(days=29))
    access_housekeeping_task()
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.PENDING
    clock.shift(dt.timedelta(days=1, seconds=1))
    access_housekeeping_task()
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.EXPIRED


def test_duplicate_and_unjustified_requests_are_refused(clock):
    person = UserFactory()
    svc.access_request_create(
        requester=person, capability="audit.view", justification="x", duration_days=3
    )
    with pytest.raises(ApplicationError) as duplicate:
        svc.access_request_create(
            requester=person, capability="audit.view", justification="x", duration_days=3
        )
    assert duplicate.value.code == "duplicate_request"
    with pytest.raises(ApplicationError) as empty:
        svc.access_request_create(
            requester=person, capability="accounts.view_access", justification=" ", duration_days=3
        )
    assert empty.value.code == "justification_required"


# --- Reviews -----------------------------------------------------------------------------------


def test_review_revoke_ends_access_and_deadline_applies_the_policy(su, clock, auditor_role):
    kept, revoked, ignored = (
        UserFactory(start_date=START.date() - dt.timedelta(days=400)) for _ in range(3)
    )
    for person in (kept, revoked, ignored):
        svc.role_assign(actor=su, user=person, role=auditor_role)
    campaign = svc.review_campaign_create(
        actor=su,
        name="Q1",
        roles=[auditor_role],
        deadline=START + dt.timedelta(days=5),
        unreviewed_policy="revoke",
    )
    items = {item.user_id: item for item in campaign.items.all()}
    assert len(items) == 3
    assert all(item.capabilities == ["audit.view"] for item in items.values())
    svc.review_item_decide(actor=su, item=items[kept.pk], decision="keep")
    svc.review_item_decide(actor=su, item=items[revoked.pk], decision="revoke", note="left team")
    assert not fresh(revoked).has_perm("audit.view")
    # the deadline passes: the undecided item follows the policy
    clock.shift(dt.timedelta(days=5, seconds=1))
    result = access_housekeeping_task()
    assert result["closed_reviews"] == 1
    assert fresh(kept).has_perm("audit.view")
    assert not fresh(ignored).has_perm("audit.view")
    campaign.refresh_from_db()
    assert campaign.closed_at is not None
    assert campaign.items.get(user=ignored).by_policy


def test_nobody_reviews_their_own_access(su, clock, auditor_role):
    person = UserFactory(start_date=START.date() - dt.timedelta(days=400))
    svc.role_assign(actor=su, user=person, role=auditor_role)
    admin_role = svc.role_create(actor=su, name="Admins", owner=su)
    svc.role_capability_set(actor=su, role=admin_role, capability="accounts.manage_access")
    svc.role_assign(actor=su, user=person, role=admin_role)
    campaign = svc.review_campaign_create(
        actor=su,
        name="Q1",
        roles=[auditor_role],
        deadline=START + dt.timedelta(days=5),
        unreviewed_policy="keep",
    )
    with pytest.raises(PermissionDeniedError):
        svc.review_item_decide(actor=fresh(person), item=campaign.items.get(), decision="keep")


def test_every_grant_and_revoke_is_audited(su, clock, auditor_role):
    person = UserFactory(start_date=START.date() - dt.timedelta(days=400))
    assignment = svc.role_assign(actor=su, user=person, role=auditor_role)
    svc.assignment_remove(actor=su, assignment=assignment)
    actions = list(
        AuditEvent.objects.filter(action__startswith="accounts.grant.").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["accounts.grant.granted", "accounts.grant.revoked"]
    assert timezone.now() == START


def test_day_counts_and_dates_that_would_overflow_are_refused(su, clock, auditor_role):
    with pytest.raises(ApplicationError) as tenure:
        svc.role_capability_set(
            actor=su, role=auditor_role, capability="audit.view", min_tenure_days=10**7
        )
    assert tenure.value.code == "out_of_range"
    person = UserFactory()
    with pytest.raises(ApplicationError) as start:
        user_update(actor=su, user=person, start_date=dt.date(9999, 12, 1))
    assert start.value.code == "out_of_range"
    # the person's access can still be explained and recomputed
    assert explain(fresh(person))


def test_a_role_that_was_ever_held_is_kept_for_the_record(su, clock, auditor_role):
    person = UserFactory()
    assignment = svc.role_assign(actor=su, user=person, role=auditor_role)
    svc.assignment_remove(actor=su, assignment=assignment)
    with pytest.raises(ApplicationError) as kept:
        svc.role_delete(actor=su, role=auditor_role)
    assert kept.value.code == "role_has_history"


def test_approvers_fall_back_to_access_managers_only(su, clock):
    manager_role = svc.role_create(actor=su, name="Admins", owner=su)
    svc.role_capability_set(actor=su, role=manager_role, capability="accounts.manage_access")
    admin = UserFactory()
    svc.role_assign(actor=su, user=admin, role=manager_role)
    UserFactory.create_batch(3)
    loner = UserFactory(manager=None)
    request = svc.access_request_create(
        requester=loner, capability="audit.view", justification="x", duration_days=1
    )
    assert {u.pk for u in svc.access_request_approvers(request)} == {su.pk, admin.pk}


def test_a_review_over_one_capability_revokes_only_that_capability(su, clock):
    role = svc.role_create(actor=su, name="Analysts", owner=su)
    svc.role_capability_set(actor=su, role=role, capability="audit.view")
    svc.role_capability_set(actor=su, role=role, capability="accounts.view_access")
    person = UserFactory()
    svc.role_assign(actor=su, user=person, role=role)
    campaign = svc.review_campaign_create(
        actor=su,
        name="Audit readers",
        capabilities=["audit.view"],
        deadline=START + dt.timedelta(days=5),
        unreviewed_policy="keep",
    )
    svc.review_item_decide(actor=su, item=campaign.items.get(), decision="revoke")
    person = fresh(person)
    assert not person.has_perm("audit.view")
    assert person.has_perm("accounts.view_access")
    assert AuditEvent.objects.filter(action="accounts.assignment.capabilities_withdrawn").exists()


def test_review_decisions_close_at_the_deadline(su, clock, auditor_role):
    person = UserFactory(start_date=START.date() - dt.timedelta(days=400))
    svc.role_assign(actor=su, user=person, role=auditor_role)
    campaign = svc.review_campaign_create(
        actor=su,
        name="Q1",
        roles=[auditor_role],
        deadline=START + dt.timedelta(days=1),
        unreviewed_policy="keep",
    )
    clock.shift(dt.timedelta(days=1, seconds=1))
    with pytest.raises(ApplicationError) as late:
        svc.review_item_decide(actor=su, item=campaign.items.get(), decision="revoke")
    assert late.value.code == "review_closed"


def test_deactivation_cancels_pending_requests(su, clock):
    person = UserFactory()
    request = svc.access_request_create(
        requester=person, capability="audit.view", justification="x", duration_days=3
    )
    user_set_active(actor=su, user=fresh(person), active=False)
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.CANCELLED


def test_upcoming_never_promises_past_the_end_of_a_time_bound_role(su, clock, auditor_role):
    person = UserFactory(start_date=START.date() - dt.timedelta(days=80))
    svc.role_assign(actor=su, user=person, role=auditor_role, ends_at=START + dt.timedelta(days=2))
    assert upcoming_messages(fresh(person)) == []


def test_concurrent_style_duplicate_explicit_assignment_is_refused(su, clock, auditor_role):
    from django.db import IntegrityError, transaction

    from apps.access.models import AccessAssignment

    person = UserFactory()
    svc.role_assign(actor=su, user=person, role=auditor_role)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessAssignment.objects.create(user=person, role=auditor_role, source="explicit")


def test_inbox_query_agrees_with_the_approver_rule_for_everyone(su, clock):
    from apps.access.selectors import access_request_inbox

    # given: requests with a role owner, with a manager, with both, with neither, and one
    # whose only possible approver is the requester themself
    admins = svc.role_create(actor=su, name="Admins", owner=su)
    svc.role_capability_set(actor=su, role=admins, capability="accounts.manage_access")
    access_admin = UserFactory()
    svc.role_assign(actor=su, user=access_admin, role=admins)
    owner, boss = UserFactory(), UserFactory()
    gone = UserFactory(is_active=False)
    owned = svc.role_create(actor=su, name="Owned", owner=owner)
    orphaned = svc.role_create(actor=su, name="Orphaned", owner=gone)
    people = [
        UserFactory(manager=boss),
        UserFactory(manager=None),
        UserFactory(manager=gone),
        owner,
    ]
    for person in people:
        svc.access_request_create(requester=person, role=owned, justification="x", duration_days=1)
        svc.access_request_create(
            requester=person, role=orphaned, justification="x", duration_days=1
        )
        svc.access_request_create(
            requester=person, capability="audit.view", justification="x", duration_days=1
        )
    everyone = [fresh(u) for u in (su, access_admin, owner, boss, *people)]
    pending = list(svc.AccessRequest.objects.select_related("role__owner", "requester__manager"))
    # then: for each person, the one-query inbox equals the per-request rule
    for person in everyone:
        expected = {r.pk for r in pending if svc.access_request_can_decide(person, r)}
        assert {r.pk for r in access_request_inbox(user=person)} == expected, person
    assert access_request_inbox(user=fresh(boss))
