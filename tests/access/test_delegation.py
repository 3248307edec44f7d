"""Delegation cannot exceed rights: an approver hands on only what they hold, an approval
keeps the capability's tenure and training rules, nobody changes their own access, and only
a superuser changes a superuser. Real API calls with real tokens, and the browser UI."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from apps.access import services as svc
from apps.access.models import (
    AccessAssignment,
    AccessRequest,
    AccessRequestStatus,
    AssignmentSource,
    Role,
    Training,
    TrainingCompletion,
)
from apps.access.registry import all_capabilities
from apps.access.rules import capability_rule, user_can
from apps.access.tasks import access_recompute_all_task
from apps.accounts.models import User
from apps.accounts.services import api_token_create, user_create
from apps.audit.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1"
MANAGE = "accounts.manage_access"
VIEW = "accounts.view_access"
AUDIT = "audit.view"
HIRE_TENURE = 12


def _api(person: User) -> APIClient:
    _, raw = api_token_create(user=person, name="test", days=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _fresh(person: User) -> User:
    return User.objects.get(pk=person.pk)


def _granted(client: APIClient) -> set[str]:
    response = client.get(f"{API}/me/permissions/")
    assert response.status_code == 200
    return {c["code"] for c in response.json()["capabilities"] if c["status"] == "granted"}


class World:
    """The demo's shape: ops.admin (superuser), dana (access admin), sam (team lead, not an
    access admin) and jonas, his report, 12 days into the job with no trainings."""

    def __init__(self):
        today = timezone.localdate()
        self.ops = user_create(
            email="ops.admin@acme.example",
            full_name="Priya Raman",
            team="Marketing Operations",
            job_title="Director of Marketing Operations",
            start_date=today - dt.timedelta(days=1460),
            password=PASSWORD,
            is_superuser=True,
        )
        ops = self.ops
        self.basics = svc.training_create(actor=ops, name="Access basics", validity_days=365)
        self.privacy = svc.training_create(actor=ops, name="Data protection", validity_days=365)
        self.admins = svc.role_create(actor=ops, name="Access Administrator", owner=ops)
        for code, days, needs in [
            (MANAGE, 90, [self.basics]),
            (VIEW, 0, []),
            (AUDIT, 0, []),
        ]:
            svc.role_capability_set(
                actor=ops, role=self.admins, capability=code, min_tenure_days=days, trainings=needs
            )
        self.lifecycle = svc.role_create(actor=ops, name="Lifecycle Marketing", owner=ops)
        svc.role_capability_set(
            actor=ops, role=self.lifecycle, capability=AUDIT, min_tenure_days=30
        )
        svc.role_capability_set(actor=ops, role=self.lifecycle, capability="schemas.view")
        svc.birthright_rule_add(actor=ops, role=self.lifecycle, team="Lifecycle Marketing")
        self.leads = svc.role_create(actor=ops, name="Team Lead", owner=ops)
        for code in (VIEW, AUDIT):
            svc.role_capability_set(
                actor=ops, role=self.leads, capability=code, min_tenure_days=180
            )
        svc.birthright_rule_add(actor=ops, role=self.leads, job_title_contains="Lead")
        self.privacy_role = svc.role_create(actor=ops, name="Privacy", owner=ops)
        for code in (AUDIT, VIEW):
            svc.role_capability_set(
                actor=ops, role=self.privacy_role, capability=code, trainings=[self.privacy]
            )
        self.dana = user_create(
            email="dana.whitfield@acme.example",
            full_name="Dana Whitfield",
            team="Marketing Operations",
            job_title="Marketing Operations Manager",
            manager=ops,
            start_date=today - dt.timedelta(days=820),
            password=PASSWORD,
        )
        svc.training_completion_record(
            actor=ops, user=self.dana, training=self.basics, completed_on=today
        )
        svc.role_assign(actor=ops, user=self.dana, role=self.admins)
        self.sam = user_create(
            email="sam.okafor@acme.example",
            full_name="Sam Okafor",
            team="Lifecycle Marketing",
            job_title="Lifecycle Marketing Lead",
            manager=ops,
            start_date=today - dt.timedelta(days=690),
            password=PASSWORD,
        )
        self.jonas = user_create(
            email="jonas.berg@acme.example",
            full_name="Jonas Berg",
            team="Lifecycle Marketing",
            job_title="Email Marketing Associate",
            manager=self.sam,
            start_date=today - dt.timedelta(days=HIRE_TENURE),
            password=PASSWORD,
        )


@pytest.fixture
def world(db):
    return World()


# --- Who decides ----------------------------------------------------------------------------


def test_a_manager_cannot_approve_a_capability_he_does_not_hold(world):
    # given: sam leads the team (audit.view, view_access) but does not manage access
    assert user_can(_fresh(world.dana), MANAGE)
    assert user_can(_fresh(world.sam), AUDIT)
    assert user_can(_fresh(world.sam), VIEW)
    assert not user_can(_fresh(world.sam), MANAGE)
    # and the hire, who holds only what his team's role gives at once, asks for it
    jonas, sam = _api(world.jonas), _api(world.sam)
    assert _granted(jonas) == {"schemas.view"}
    created = jonas.post(
        f"{API}/access-requests/",
        {"capability": MANAGE, "justification": "x", "duration_days": 1},
        format="json",
    )
    assert created.status_code == 201
    request_id = created.json()["id"]

    # when: his manager, who lacks it, approves
    response = sam.post(f"{API}/access-requests/{request_id}/approve/", {}, format="json")

    # then: refused with a code, the request still waits for someone who may decide it
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "approver_lacks_capability"
    assert MANAGE in body["message"]
    assert sam.get(f"{API}/access-requests/{request_id}/").json()["can_decide"] is False
    assert AccessRequest.objects.get(pk=request_id).status == AccessRequestStatus.PENDING
    assert not user_can(_fresh(world.jonas), MANAGE)
    # and the people who manage access decide it instead
    approvers = set(jonas.get(f"{API}/access-requests/{request_id}/").json()["approver_ids"])
    assert approvers == {world.ops.pk, world.dana.pk}


def test_a_role_owner_without_the_roles_capabilities_is_not_an_approver(world):
    # given: Lifecycle Marketing is owned by someone who holds none of what it gives
    outsider = user_create(email="o@acme.example", full_name="Olga Outsider", team="Finance")
    svc.role_update(actor=world.ops, role=world.lifecycle, owner=outsider)
    newcomer = user_create(email="n@acme.example", full_name="Nia New", team="Finance")
    access_request = svc.access_request_create(
        requester=newcomer, role=world.lifecycle, justification="x", duration_days=30
    )

    # when
    response = _api(outsider).post(f"{API}/access-requests/{access_request.pk}/approve/")

    # then
    assert response.status_code == 403
    assert response.json()["code"] == "approver_lacks_capability"
    assert {u.pk for u in svc.access_request_approvers(access_request)} == {
        world.ops.pk,
        world.dana.pk,
    }


def test_the_reviewed_escalation_leaves_the_hire_with_what_he_had(world):
    # given: the five calls of the security review, by jonas and sam
    jonas, sam = _api(world.jonas), _api(world.sam)
    before = _granted(jonas)
    request_id = jonas.post(
        f"{API}/access-requests/",
        {"capability": MANAGE, "justification": "x", "duration_days": 1},
        format="json",
    ).json()["id"]

    # when
    answers = [
        sam.post(f"{API}/access-requests/{request_id}/approve/", {}, format="json"),
        jonas.patch(f"{API}/users/{world.jonas.pk}/", {"start_date": "2020-01-01"}, format="json"),
        jonas.post(
            f"{API}/training-completions/",
            {"user": world.jonas.pk, "training": world.basics.pk, "completed_on": "2026-01-01"},
            format="json",
        ),
        jonas.post(
            f"{API}/role-assignments/",
            {"user": world.jonas.pk, "role": world.admins.pk},
            format="json",
        ),
        jonas.post(
            f"{API}/role-assignments/",
            {"user": world.jonas.pk, "role": world.leads.pk},
            format="json",
        ),
    ]

    # then: every call is refused with a code, and he holds what he held
    assert [a.status_code for a in answers] == [403] * 5
    assert all(a.json()["code"] for a in answers)
    assert _granted(jonas) == before == {"schemas.view"}
    assert _fresh(world.jonas).start_date == timezone.localdate() - dt.timedelta(days=12)


# --- Rules still apply ----------------------------------------------------------------------


def test_an_early_approval_waits_as_upcoming_until_tenure_and_training_are_met(world):
    # given: seeing everyone's access, which none of his roles gives, needs on its own the
    # strictest rule any role sets: 180 days (Team Lead) and the data protection training
    rule = capability_rule(VIEW)
    assert (rule.min_tenure_days, [t.name for t in rule.trainings]) == (180, ["Data protection"])
    jonas, sam = _api(world.jonas), _api(world.sam)
    request_id = jonas.post(
        f"{API}/access-requests/",
        {"capability": VIEW, "justification": "x", "duration_days": 365},
        format="json",
    ).json()["id"]

    # when: his manager, who holds it, approves it on day 12
    approved = sam.post(f"{API}/access-requests/{request_id}/approve/", {}, format="json")

    # then: approved, but not in force: upcoming on My access, with what is missing
    assert approved.status_code == 200, approved.json()
    assert not user_can(_fresh(world.jonas), VIEW)
    mine = jonas.get(f"{API}/me/permissions/").json()
    status = next(c for c in mine["capabilities"] if c["code"] == VIEW)
    assert status["status"] == "upcoming"
    assert any(
        f"Access request #{request_id}" in r and "in 168 days" in r and "Data protection" in r
        for r in status["reasons"]
    ), status["reasons"]
    event = AuditEvent.objects.get(action="accounts.access_request.approved")
    assert event.metadata["trainings_required"] == ["Data protection"]
    page = Client()
    page.force_login(world.jonas)
    assert "Access request #" in page.get(reverse("access:my_access")).content.decode()

    # when: the tenure is reached (the daily job), the training still missing
    with time_machine.travel(timezone.now() + dt.timedelta(days=169)):
        access_recompute_all_task()
        assert not user_can(_fresh(world.jonas), VIEW)
        # and then the training is recorded by an access admin
        svc.training_completion_record(
            actor=world.dana,
            user=_fresh(world.jonas),
            training=world.privacy,
            completed_on=timezone.localdate(),
        )
        # then
        assert user_can(_fresh(world.jonas), VIEW)


def test_an_approval_that_could_never_take_effect_is_refused_with_the_reason(world):
    jonas, sam = _api(world.jonas), _api(world.sam)
    request_id = jonas.post(
        f"{API}/access-requests/",
        {"capability": VIEW, "justification": "x", "duration_days": 30},
        format="json",
    ).json()["id"]

    response = sam.post(f"{API}/access-requests/{request_id}/approve/", {}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "tenure_not_reached"
    assert body["details"]["min_tenure_days"] == 180
    assert AccessRequest.objects.get(pk=request_id).status == AccessRequestStatus.PENDING
    assert not user_can(_fresh(world.jonas), VIEW)


# --- Nobody changes their own access; only a superuser changes a superuser ----------------------


def test_nobody_changes_their_own_start_date_trainings_roles_or_active_state(world):
    dana = _api(world.dana)
    own = f"{API}/users/{world.dana.pk}/"
    assignment = AccessAssignment.objects.get(user=world.dana, role=world.admins)
    answers = {
        "start_date": dana.patch(own, {"start_date": "2010-01-01"}, format="json"),
        "team": dana.patch(own, {"team": "Privacy & Legal"}, format="json"),
        "manager": dana.patch(own, {"manager": None}, format="json"),
        "completion": dana.post(
            f"{API}/training-completions/",
            {"user": world.dana.pk, "training": world.privacy.pk, "completed_on": "2026-01-01"},
            format="json",
        ),
        "role": dana.post(
            f"{API}/role-assignments/",
            {"user": world.dana.pk, "role": world.leads.pk},
            format="json",
        ),
        "role_removed": dana.delete(f"{API}/role-assignments/{assignment.pk}/"),
        "active": dana.patch(own, {"is_active": False}, format="json"),
        "own_role_rules": dana.post(
            f"{API}/roles/{world.admins.pk}/capabilities/",
            {"capability": "erasure.approve", "min_tenure_days": 0},
            format="json",
        ),
    }
    codes = {k: (a.status_code, a.json()["code"]) for k, a in answers.items()}
    assert codes == {
        "start_date": (403, "own_access"),
        "team": (403, "own_access"),
        "manager": (403, "own_access"),
        "completion": (403, "own_access"),
        "role": (403, "own_access"),
        "role_removed": (403, "own_access"),
        "active": (400, "deactivate_self"),
        "own_role_rules": (403, "own_access"),
    }
    dana_now = _fresh(world.dana)
    assert dana_now.start_date == timezone.localdate() - dt.timedelta(days=820)
    assert dana_now.team == "Marketing Operations"
    assert not TrainingCompletion.objects.filter(user=dana_now, training=world.privacy).exists()
    assert not user_can(dana_now, "erasure.approve")
    # a name is not access: it stays one's own to fix; and other people's records hers to keep
    assert dana.patch(own, {"full_name": "Dana W."}, format="json").status_code == 200
    other = dana.patch(
        f"{API}/users/{world.jonas.pk}/", {"start_date": "2026-01-05"}, format="json"
    )
    assert other.status_code == 200
    assert _fresh(world.jonas).start_date == dt.date(2026, 1, 5)


def test_only_a_superuser_changes_a_superuser(world):
    # given
    dana = _api(world.dana)
    ops = f"{API}/users/{world.ops.pk}/"

    # when: a non-superuser access admin tries to deactivate, edit or re-role the superuser
    answers = [
        dana.patch(ops, {"is_active": False}, format="json"),
        dana.patch(ops, {"full_name": "Someone else"}, format="json"),
        dana.patch(ops, {"start_date": "2026-01-01"}, format="json"),
        dana.post(
            f"{API}/role-assignments/",
            {"user": world.ops.pk, "role": world.leads.pk},
            format="json",
        ),
        dana.post(
            f"{API}/training-completions/",
            {"user": world.ops.pk, "training": world.privacy.pk, "completed_on": "2026-01-01"},
            format="json",
        ),
    ]

    # then
    assert [(a.status_code, a.json()["code"]) for a in answers] == [
        (403, "superuser_protected")
    ] * 5
    ops_now = _fresh(world.ops)
    assert ops_now.is_active
    assert ops_now.full_name == "Priya Raman"
    # and another superuser may
    other = user_create(email="root2@acme.example", full_name="Root Two", is_superuser=True)
    assert _api(other).patch(ops, {"full_name": "Priya R."}, format="json").status_code == 200


def test_the_browser_refuses_the_same_with_a_message(world):
    # given
    dana, sam = Client(), Client()
    dana.force_login(world.dana)
    sam.force_login(world.sam)
    access_request = svc.access_request_create(
        requester=world.jonas, capability=MANAGE, justification="x", duration_days=1
    )
    today = timezone.localdate()

    # when
    own_edit = dana.post(
        reverse("accounts:user_edit", args=[world.dana.pk]),
        {
            "full_name": "Dana Whitfield",
            "team": "Marketing Operations",
            "job_title": "Marketing Operations Manager",
            "manager": world.ops.pk,
            "start_date": "2010-01-01",
        },
    )
    deactivate_superuser = dana.post(
        reverse("accounts:user_active", args=[world.ops.pk]), {"active": "false"}
    )
    approve = sam.post(reverse("access:request_approve", args=[access_request.pk]))

    # then
    assert own_edit.status_code in (200, 400, 403)
    assert "cannot change your own" in own_edit.content.decode()
    assert deactivate_superuser.status_code == 403
    assert "Only a superuser" in deactivate_superuser.content.decode()
    assert approve.status_code == 403
    assert "you do not hold" in approve.content.decode()
    assert _fresh(world.dana).start_date == today - dt.timedelta(days=820)
    assert _fresh(world.ops).is_active
    assert not user_can(_fresh(world.jonas), MANAGE)


# --- The property: whatever the hire and his manager do, the hire gains nothing -------------------


def _allowed_for_hire(hire: User) -> set[str]:
    """What the hire's roles, his 12 days and his (no) trainings give, and what an approval
    by someone who held it gives once its rule is met: worked out from the rules here, not
    by the access engine."""
    allowed = set()
    for assignment in AccessAssignment.objects.filter(user=hire, ended_at__isnull=True):
        request = assignment.access_request
        decider = request.decided_by if request else None
        if assignment.role_id:
            rules = list(assignment.role.capability_rules.all())
            if assignment.source == AssignmentSource.REQUEST and not (
                decider is not None
                and (
                    user_can(_fresh(decider), MANAGE)
                    or all(user_can(_fresh(decider), r.capability) for r in rules)
                )
            ):
                continue
            for rule in rules:
                if rule.min_tenure_days <= HIRE_TENURE and not rule.trainings.exists():
                    allowed.add(rule.capability)
            continue
        rules = svc.RoleCapability.objects.filter(capability=assignment.capability)
        if (
            decider is not None
            and (user_can(_fresh(decider), assignment.capability) or user_can(decider, MANAGE))
            and all(r.min_tenure_days <= HIRE_TENURE and not r.trainings.exists() for r in rules)
        ):
            allowed.add(assignment.capability)
    return allowed


CAPABILITY = st.sampled_from([MANAGE, VIEW, AUDIT, "schemas.view", "erasure.approve"])
DURATION = st.sampled_from([1, 30, 200, 365])
STEP = st.one_of(
    st.tuples(st.just("request"), CAPABILITY, DURATION),
    # the hire asks and his manager answers at once: the path of the reviewed escalation
    st.tuples(
        st.just("ask_and_decide"), CAPABILITY, DURATION, st.sampled_from(["approve", "reject"])
    ),
    st.tuples(
        st.just("ask_role_and_decide"),
        st.sampled_from(["admins", "leads", "privacy_role"]),
        st.sampled_from(["approve", "reject"]),
    ),
    st.tuples(st.just("request_role"), st.sampled_from(["admins", "leads", "privacy_role"])),
    st.tuples(st.sampled_from(["sam", "jonas"]), st.sampled_from(["approve", "reject"])),
    st.tuples(st.just("self_start_date"), st.dates(dt.date(1990, 1, 1), dt.date(2026, 1, 1))),
    st.tuples(st.just("self_team"), st.sampled_from(["Marketing Operations", "Privacy & Legal"])),
    st.tuples(st.sampled_from(["sam", "jonas"]), st.just("completion"), st.booleans()),
    st.tuples(
        st.sampled_from(["sam", "jonas"]),
        st.just("assign"),
        st.sampled_from(["admins", "leads", "privacy_role"]),
    ),
    st.tuples(st.sampled_from(["sam", "jonas"]), st.just("grant"), CAPABILITY),
    st.tuples(st.just("sam"), st.just("start_date")),
)


def _play(world: World, clients: dict[str, APIClient], step: tuple) -> int:
    jonas_id = world.jonas.pk
    kind = step[0]
    if kind == "request":
        body = {"capability": step[1], "justification": "x", "duration_days": step[2]}
        return clients["jonas"].post(f"{API}/access-requests/", body, format="json").status_code
    if kind in ("ask_and_decide", "ask_role_and_decide"):
        if kind == "ask_and_decide":
            body = {"capability": step[1], "justification": "x", "duration_days": step[2]}
        else:
            body = {"role": getattr(world, step[1]).pk, "justification": "x", "duration_days": 30}
        created = clients["jonas"].post(f"{API}/access-requests/", body, format="json")
        if created.status_code != 201:
            return created.status_code
        url = f"{API}/access-requests/{created.json()['id']}/{step[-1]}/"
        return clients["sam"].post(url, {}, format="json").status_code
    if kind == "request_role":
        role = getattr(world, step[1])
        body = {"role": role.pk, "justification": "x", "duration_days": 30}
        return clients["jonas"].post(f"{API}/access-requests/", body, format="json").status_code
    if kind == "self_start_date":
        return (
            clients["jonas"]
            .patch(f"{API}/users/{jonas_id}/", {"start_date": str(step[1])}, format="json")
            .status_code
        )
    if kind == "self_team":
        return (
            clients["jonas"]
            .patch(f"{API}/users/{jonas_id}/", {"team": step[1]}, format="json")
            .status_code
        )
    actor, action = clients[step[0]], step[1]
    if action in ("approve", "reject"):
        latest = AccessRequest.objects.filter(status="pending").order_by("-pk").first()
        if latest is None:
            return 0
        return actor.post(
            f"{API}/access-requests/{latest.pk}/{action}/", {}, format="json"
        ).status_code
    if action == "completion":
        training = world.basics if step[2] else world.privacy
        body = {"user": jonas_id, "training": training.pk, "completed_on": "2026-01-01"}
        return actor.post(f"{API}/training-completions/", body, format="json").status_code
    if action == "assign":
        body = {"user": jonas_id, "role": getattr(world, step[2]).pk}
        return actor.post(f"{API}/role-assignments/", body, format="json").status_code
    if action == "grant":
        body = {"user": jonas_id, "capability": step[2]}
        return actor.post(f"{API}/grants/", body, format="json").status_code
    # the manager edits his report's start date: he does not manage access
    return actor.patch(
        f"{API}/users/{jonas_id}/", {"start_date": "2001-01-01"}, format="json"
    ).status_code


def test_whatever_the_hire_and_his_manager_call_the_hire_gains_nothing_he_is_not_due(world):
    clients = {"jonas": _api(world.jonas), "sam": _api(world.sam)}
    start_date = world.jonas.start_date

    @hypothesis_settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(steps=st.lists(STEP, min_size=1, max_size=8))
    def run(steps):
        with transaction.atomic():
            cache.clear()
            for step in steps:
                status = _play(world, clients, step)
                assert status < 500, (step, status)
            hire = _fresh(world.jonas)
            granted = _granted(clients["jonas"])
            engine = {c.code for c in all_capabilities() if user_can(hire, c.code)}
            # then: the API and the permission function agree, and give nothing undue
            assert granted == engine
            assert granted <= _allowed_for_hire(hire), (steps, granted)
            assert hire.start_date == start_date
            assert hire.team == "Lifecycle Marketing"
            assert not TrainingCompletion.objects.filter(user=hire).exists()
            assert not AccessAssignment.objects.filter(
                user=hire, source=AssignmentSource.EXPLICIT
            ).exists()
            transaction.set_rollback(True)

    run()
    assert Role.objects.count() == 4
    assert Training.objects.count() == 2


def test_a_persons_page_offers_no_access_controls_one_may_not_use(world):
    # given: dana manages access, but not her own nor the superuser's
    dana = Client()
    dana.force_login(world.dana)

    # when
    own = dana.get(reverse("accounts:user_detail", args=[world.dana.pk])).content.decode()
    superuser = dana.get(reverse("accounts:user_detail", args=[world.ops.pk])).content.decode()
    other = dana.get(reverse("accounts:user_detail", args=[world.jonas.pk])).content.decode()

    # then
    assign = reverse("access:user_assign_role", args=[world.dana.pk])
    assert assign not in own
    assert "changed by another access administrator" in own
    assert reverse("accounts:user_active", args=[world.ops.pk]) not in superuser
    assert "Only a superuser changes a superuser" in superuser
    assert reverse("access:user_assign_role", args=[world.jonas.pk]) in other
    assert reverse("accounts:user_active", args=[world.jonas.pk]) in other


def test_a_request_page_says_when_the_access_would_take_effect(world):
    access_request = svc.access_request_create(
        requester=world.jonas, capability=VIEW, justification="x", duration_days=365
    )
    sam = Client()
    sam.force_login(world.sam)
    page = sam.get(reverse("access:request_detail", args=[access_request.pk])).content.decode()
    reached = world.jonas.start_date + dt.timedelta(days=180)
    assert f"180 days' tenure (from {reached:%Y-%m-%d})" in page
    assert "“Data protection”" in page


@pytest.mark.parametrize("closer", ["dana", "deadline"])
def test_a_review_closed_with_the_revoke_policy_leaves_a_superusers_and_the_owners_own_roles(
    world, closer
):
    # given: dana (not a superuser) reviews the Team Lead role held by the superuser, by herself
    # and by sam, with "revoke" for what nobody decides
    root = user_create(email="root2@acme.example", full_name="Root Two", is_superuser=True)
    svc.role_assign(actor=root, user=world.ops, role=world.leads)
    svc.role_assign(actor=world.ops, user=world.dana, role=world.leads)
    dana = _api(world.dana)
    created = dana.post(
        f"{API}/reviews/",
        {
            "name": "Leads",
            "roles": [world.leads.pk],
            "deadline": (timezone.now() + dt.timedelta(days=1)).isoformat(),
            "unreviewed_policy": "revoke",
        },
        format="json",
    )
    assert created.status_code == 201, created.content

    # when: dana closes it at once, or it closes itself at its deadline
    if closer == "dana":
        assert dana.post(f"{API}/reviews/{created.json()['id']}/close/").status_code == 200
    else:
        with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
            assert svc.review_campaigns_close_overdue() == 1

    # then: only sam's Team Lead role ends
    holders = set(
        AccessAssignment.objects.filter(
            role=world.leads, ended_at__isnull=True, suppressed=False
        ).values_list("user__email", flat=True)
    )
    assert holders == {world.ops.email, world.dana.email}


def test_on_their_own_record_the_fields_that_decide_access_are_locked_with_the_reason(world):
    # given
    dana = Client()
    dana.force_login(world.dana)

    # when
    page = dana.get(reverse("accounts:user_edit", args=[world.dana.pk]))

    # then: the page offers only what she may change
    form = page.context["form"]
    assert page.status_code == 200
    assert not form.fields["full_name"].disabled
    for name in ("team", "job_title", "manager", "start_date"):
        assert form.fields[name].disabled, name
    html = page.content.decode()
    assert re.search(r'<input[^>]*name="start_date"[^>]*disabled', html)
    assert "Another access administrator changes this" in html


def test_a_locked_field_sent_anyway_is_refused_on_the_field_and_a_new_name_is_saved(world):
    # given
    dana = Client()
    dana.force_login(world.dana)
    url = reverse("accounts:user_edit", args=[world.dana.pk])

    # when: a forged start date, then the form as the browser sends it (no disabled fields)
    forged = dana.post(url, {"full_name": "Dana W.", "start_date": "2010-01-01"})
    renamed = dana.post(url, {"full_name": "Dana W."})

    # then
    assert forged.status_code == 400
    assert "cannot change your own start date" in forged.context["form"].errors["start_date"][0]
    assert renamed.status_code == 302
    world.dana.refresh_from_db()
    assert world.dana.full_name == "Dana W."
    assert world.dana.start_date != dt.date(2010, 1, 1)


def test_an_access_admin_is_offered_no_edit_of_a_superuser_and_the_form_is_a_403(world):
    # given
    dana = Client()
    dana.force_login(world.dana)

    # when
    detail = dana.get(reverse("accounts:user_detail", args=[world.ops.pk]))
    edit = dana.get(reverse("accounts:user_edit", args=[world.ops.pk]))

    # then
    edit_url = reverse("accounts:user_edit", args=[world.ops.pk])
    assert detail.status_code == 200
    assert edit_url not in detail.content.decode()
    assert edit.status_code == 403
    assert "Only a superuser can change a superuser" in edit.content.decode()


def test_nobody_changes_how_long_a_training_they_completed_stays_valid(world):
    # given: dana's manage_access rests on her "Access basics" completion (valid 365 days)
    dana = _api(world.dana)

    # when: she makes it last a century, and changes a training she has not completed
    own = dana.patch(f"{API}/trainings/{world.basics.pk}/", {"validity_days": 36500}, format="json")
    other = dana.patch(f"{API}/trainings/{world.privacy.pk}/", {"validity_days": 30}, format="json")

    # then
    assert (own.status_code, own.json()["code"]) == (403, "own_access")
    assert Training.objects.get(pk=world.basics.pk).validity_days == 365
    assert other.status_code == 200
    assert Training.objects.get(pk=world.privacy.pk).validity_days == 30


def test_the_request_page_says_before_the_click_when_tenure_comes_after_the_access_ends(world):
    # given: one request whose tenure comes after its 30 days, one with no tenure to wait for
    too_early = svc.access_request_create(
        requester=world.jonas, capability=MANAGE, justification="x", duration_days=30
    )
    in_time = svc.access_request_create(
        requester=world.jonas, capability="erasure.approve", justification="x", duration_days=30
    )
    early_approver, timely_approver = Client(), Client()
    early_approver.force_login(svc.access_request_approvers(too_early)[0])
    timely_approver.force_login(svc.access_request_approvers(in_time)[0])

    # when
    early_page = early_approver.get(reverse("access:request_detail", args=[too_early.pk])).content
    timely_page = timely_approver.get(reverse("access:request_detail", args=[in_time.pk])).content

    # then: the first offers no approval and says why; the second is approvable as before
    early_html, timely_html = early_page.decode(), timely_page.decode()
    reached_on = world.jonas.start_date + dt.timedelta(days=90)
    assert "data-tenure-after-end" in early_html
    assert f"on {reached_on:%Y-%m-%d}, after this access would end" in early_html
    assert re.search(r'<button type="submit" class="btn btn-success" disabled>', early_html)
    assert "data-tenure-after-end" not in timely_html
    assert re.search(r'<button type="submit" class="btn btn-success">Approve', timely_html)
