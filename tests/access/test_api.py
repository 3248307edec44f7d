"""The access-control API: a person's access, roles, trainings, assignments, grants, requests,
reviews.

Every write goes through a service that checks accounts.manage_access; these tests hold the
API to that (403), to hiding what the caller may not see (404), to refusing bad input (400)
and conflicts (409), and to the access engine's effects being visible at once.
"""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.access import services as access_services
from apps.access.models import (
    AccessRequest,
    Grant,
    ReviewItem,
    Role,
    TrainingCompletion,
)
from apps.access.rules import user_can
from apps.accounts.models import User
from apps.accounts.services import api_token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
MANAGE = "accounts.manage_access"
VIEW = "accounts.view_access"
AUDIT = "audit.view"


def _client_for(person: User) -> APIClient:
    _, raw = api_token_create(user=person, name="test", days=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _role(admin: User, name: str, capability: str | None = None, owner=None, **rule) -> Role:
    role = access_services.role_create(actor=admin, name=name, owner=owner or admin)
    if capability:
        access_services.role_capability_set(actor=admin, role=role, capability=capability, **rule)
    return role


def _holds(person: User, capability: str) -> bool:
    return user_can(User.objects.get(pk=person.pk), capability)


@pytest.fixture
def manager(admin):
    """Someone who manages access through a role, not as a superuser."""
    role = _role(admin, "Access managers", MANAGE)
    person = UserFactory(full_name="Mara Manager")
    access_services.role_assign(actor=admin, user=person, role=role)
    return person


@pytest.fixture
def manager_api(manager):
    return _client_for(manager)


@pytest.fixture
def stranger(db):
    return UserFactory(full_name="Sam Stranger", team="Finance")


@pytest.fixture
def stranger_api(stranger):
    return _client_for(stranger)


# --- A person's access ----------------------------------------------------------------------


def test_person_access_lists_every_capability_with_status_reason_and_expiry(admin, manager_api):
    # given: a person with a time-bound role
    person = UserFactory()
    ends = timezone.now() + dt.timedelta(days=10)
    access_services.role_assign(
        actor=admin, user=person, role=_role(admin, "Auditors", AUDIT), ends_at=ends
    )

    # when
    response = manager_api.get(f"{API}/users/{person.pk}/access/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == person.pk
    statuses = {c["code"]: c for c in body["capabilities"]}
    assert set(statuses) >= {AUDIT, MANAGE, VIEW}
    assert statuses[AUDIT]["status"] == "granted"
    assert statuses[AUDIT]["reasons"] == [
        f"Auditors role, until {timezone.localtime(ends):%Y-%m-%d}"
    ]
    assert dt.datetime.fromisoformat(statuses[AUDIT]["expires_at"]) == ends
    assert statuses[MANAGE]["status"] == "lacking"
    # the manager's own role gives it, none of the person's does
    assert statuses[MANAGE]["reasons"] == [
        "None of their roles gives it; the Access managers role does"
    ]


def test_a_persons_access_is_visible_to_their_manager_but_not_to_others(user, stranger):
    # given
    report = UserFactory(manager=user)

    # when / then
    assert _client_for(user).get(f"{API}/users/{report.pk}/access/").status_code == 200
    refused = _client_for(stranger).get(f"{API}/users/{report.pk}/access/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"


def test_access_of_an_unknown_person_is_404(api):
    assert api.get(f"{API}/users/999999/access/").status_code == 404


# --- My permissions ------------------------------------------------------------------------------


def test_my_permissions_explain_tenure_reasons_and_upcoming_capabilities(admin, user):
    # given: a person 200 days in; one rule needs 90 days, another 300
    role = _role(admin, "Analysts", AUDIT, min_tenure_days=90)
    access_services.role_capability_set(
        actor=admin, role=role, capability=VIEW, min_tenure_days=300
    )
    access_services.role_assign(actor=admin, user=user, role=role)
    reached = user.start_date + dt.timedelta(days=90)
    available = user.start_date + dt.timedelta(days=300)

    # when
    response = _client_for(user).get(f"{API}/me/permissions/")

    # then
    assert response.status_code == 200
    body = response.json()
    statuses = {c["code"]: c for c in body["capabilities"]}
    assert statuses[AUDIT]["status"] == "granted"
    assert statuses[AUDIT]["reasons"] == [
        f"Analysts role, tenure 90 days reached on {reached:%Y-%m-%d}"
    ]
    assert statuses[AUDIT]["expires_at"] is None
    assert statuses[VIEW]["status"] == "upcoming"
    assert statuses[VIEW]["reasons"] == [f"Analysts role: in 100 days (on {available:%Y-%m-%d})"]
    assert statuses[MANAGE]["status"] == "lacking"
    assert body["upcoming"] == [
        f"In 100 days (on {available:%Y-%m-%d}) you will be able to see everyone's access."
    ]


def test_my_permissions_name_the_missing_training(admin, user):
    training = access_services.training_create(actor=admin, name="Data privacy 101")
    role = _role(admin, "Exporters", AUDIT, trainings=[training])
    access_services.role_assign(actor=admin, user=user, role=role)

    body = _client_for(user).get(f"{API}/me/permissions/").json()

    status = next(c for c in body["capabilities"] if c["code"] == AUDIT)
    assert status["status"] == "upcoming"
    assert status["reasons"] == ["Exporters role: after completing “Data privacy 101”"]
    assert body["upcoming"] == [
        "After completing “Data privacy 101” you will be able to read the audit log."
    ]


def test_superuser_permissions_say_why(admin_api):
    body = admin_api.get(f"{API}/me/permissions/").json()
    assert {c["status"] for c in body["capabilities"]} == {"granted"}
    assert body["capabilities"][0]["reasons"] == ["Superuser: holds every capability"]


# --- Roles ----------------------------------------------------------------------------------


def test_access_manager_builds_a_role_with_rules(manager_api, manager, admin):
    # given
    training = access_services.training_create(actor=admin, name="Security basics")

    # when
    created = manager_api.post(
        f"{API}/roles/", {"name": " Campaign editors ", "description": "Edit"}, format="json"
    )
    role_id = created.json()["id"]
    capability = manager_api.post(
        f"{API}/roles/{role_id}/capabilities/",
        {"capability": AUDIT, "min_tenure_days": 30, "trainings": [training.pk]},
        format="json",
    )
    birthright = manager_api.post(
        f"{API}/roles/{role_id}/birthright-rules/",
        {"team": "Growth", "job_title_contains": "editor"},
        format="json",
    )
    detail = manager_api.get(f"{API}/roles/{role_id}/")

    # then
    assert created.status_code == 201
    assert created.json()["name"] == "Campaign editors"
    assert created.json()["owner_id"] == manager.pk  # defaults to the caller
    assert capability.status_code == 200
    assert capability.json() == {
        "capability": AUDIT,
        "label": "Read the audit log",
        "min_tenure_days": 30,
        "trainings": [{"id": training.pk, "name": "Security basics"}],
    }
    assert birthright.status_code == 201
    rule = birthright.json()
    assert rule["description"] == "team is Growth and job title contains “editor”"
    body = detail.json()
    assert body["capabilities"] == [capability.json()]
    assert body["birthright_rules"] == [rule]
    assert body["holder_count"] == 0


def test_role_list_is_readable_by_everyone_and_filters_by_capability(admin, api):
    _role(admin, "Auditors", AUDIT)
    _role(admin, "Plain")
    response = api.get(f"{API}/roles/", {"capability": AUDIT})
    assert response.status_code == 200
    assert [r["name"] for r in response.json()["results"]] == ["Auditors"]


def test_role_create_or_edit_with_bad_input_is_400(admin, manager_api):
    role = _role(admin, "Auditors")
    blank = manager_api.post(f"{API}/roles/", {"name": "  "}, format="json")
    nothing = manager_api.patch(f"{API}/roles/{role.pk}/", {}, format="json")
    no_owner = manager_api.patch(f"{API}/roles/{role.pk}/", {"owner": 999999}, format="json")
    assert [r.status_code for r in (blank, nothing, no_owner)] == [400, 400, 400]
    assert "name" in blank.json()["details"]["fields"]
    assert nothing.json()["message"] == "Give at least one field to change."


def test_role_name_taken_is_a_conflict(admin, manager_api):
    _role(admin, "Auditors")
    response = manager_api.post(f"{API}/roles/", {"name": "auditors"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "role_name_taken"


def test_renaming_a_role_onto_another_is_a_conflict_but_a_new_name_works(admin, manager_api):
    _role(admin, "Auditors")
    role = _role(admin, "Readers")
    taken = manager_api.patch(f"{API}/roles/{role.pk}/", {"name": "AUDITORS"}, format="json")
    renamed = manager_api.patch(f"{API}/roles/{role.pk}/", {"name": "Viewers"}, format="json")
    assert taken.status_code == 409
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Viewers"


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("capabilities/", {"capability": "nope.nothing"}, "invalid"),
        ("capabilities/", {"capability": AUDIT, "min_tenure_days": -1}, "invalid"),
        ("capabilities/", {"capability": AUDIT, "trainings": [999999]}, "invalid"),
        ("birthright-rules/", {"team": " ", "job_title_contains": ""}, "empty_birthright_rule"),
    ],
)
def test_role_rules_with_bad_input_are_400(admin, manager_api, path, body, code):
    role = _role(admin, "Auditors")
    response = manager_api.post(f"{API}/roles/{role.pk}/{path}", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_ordinary_user_cannot_change_roles(admin, api):
    role = _role(admin, "Auditors", AUDIT)
    rule = access_services.birthright_rule_add(actor=admin, role=role, team="Nobody")
    attempts = [
        api.post(f"{API}/roles/", {"name": "Mine"}, format="json"),
        api.patch(f"{API}/roles/{role.pk}/", {"name": "Mine"}, format="json"),
        api.delete(f"{API}/roles/{role.pk}/"),
        api.post(f"{API}/roles/{role.pk}/capabilities/", {"capability": MANAGE}, format="json"),
        api.delete(f"{API}/roles/{role.pk}/capabilities/{AUDIT}/"),
        api.post(f"{API}/roles/{role.pk}/birthright-rules/", {"team": "X"}, format="json"),
        api.delete(f"{API}/roles/{role.pk}/birthright-rules/{rule.pk}/"),
    ]
    assert [a.status_code for a in attempts] == [403] * len(attempts)
    assert list(Role.objects.values_list("name", flat=True)) == ["Auditors"]
    assert role.capability_rules.get().capability == AUDIT
    assert role.birthright_rules.get().pk == rule.pk
    assert api.get(f"{API}/roles/{role.pk}/").status_code == 200


def test_unknown_roles_and_rules_are_404(admin, manager_api):
    # given
    role = _role(admin, "Auditors", AUDIT)
    other = _role(admin, "Others")
    rule = access_services.birthright_rule_add(actor=admin, role=other, team="Finance")
    unknown = f"{API}/roles/999999/"

    # when
    answers = [
        manager_api.get(unknown),
        manager_api.patch(unknown, {"name": "X"}, format="json"),
        manager_api.delete(unknown),
        manager_api.post(f"{unknown}capabilities/", {"capability": AUDIT}, format="json"),
        manager_api.post(f"{unknown}birthright-rules/", {"team": "X"}, format="json"),
        # a capability the role does not give, and a rule of another role
        manager_api.delete(f"{API}/roles/{role.pk}/capabilities/{VIEW}/"),
        manager_api.delete(f"{API}/roles/{role.pk}/birthright-rules/{rule.pk}/"),
    ]

    # then
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert other.birthright_rules.exists()


def test_removing_a_capability_from_a_role_revokes_it_from_holders(admin, manager_api, user):
    # given
    role = _role(admin, "Auditors", AUDIT)
    access_services.role_assign(actor=admin, user=user, role=role)
    assert _holds(user, AUDIT)

    # when
    response = manager_api.delete(f"{API}/roles/{role.pk}/capabilities/{AUDIT}/")

    # then
    assert response.status_code == 204
    assert not _holds(user, AUDIT)
    assert not role.capability_rules.exists()


def test_removing_a_birthright_rule_takes_the_role_away(admin, manager_api, stranger):
    # given: the rule matches the stranger's team
    role = _role(admin, "Finance readers", AUDIT)
    rule = access_services.birthright_rule_add(actor=admin, role=role, team="finance")
    assert _holds(stranger, AUDIT)

    # when
    response = manager_api.delete(f"{API}/roles/{role.pk}/birthright-rules/{rule.pk}/")

    # then
    assert response.status_code == 204
    assert not _holds(stranger, AUDIT)


def test_a_held_role_cannot_be_deleted_but_an_unused_one_can(admin, manager_api, user):
    held = _role(admin, "Held", AUDIT)
    access_services.role_assign(actor=admin, user=user, role=held)
    unused = _role(admin, "Unused")

    refused = manager_api.delete(f"{API}/roles/{held.pk}/")
    deleted = manager_api.delete(f"{API}/roles/{unused.pk}/")

    assert refused.status_code == 409
    assert refused.json()["code"] == "role_in_use"
    assert deleted.status_code == 204
    assert set(Role.objects.values_list("name", flat=True)) == {"Held", "Access managers"}


# --- Trainings and completions ----------------------------------------------------------------


def test_access_manager_creates_and_edits_a_training(manager_api):
    created = manager_api.post(
        f"{API}/trainings/", {"name": "GDPR", "validity_days": 365}, format="json"
    )
    assert created.status_code == 201
    training_id = created.json()["id"]
    assert created.json()["completion_count"] == 0

    edited = manager_api.patch(
        f"{API}/trainings/{training_id}/", {"validity_days": None}, format="json"
    )
    assert edited.status_code == 200
    assert edited.json()["validity_days"] is None
    assert manager_api.get(f"{API}/trainings/{training_id}/").json()["name"] == "GDPR"
    listing = manager_api.get(f"{API}/trainings/", {"q": "gdp"}).json()
    assert [t["id"] for t in listing["results"]] == [training_id]


def test_training_input_errors_and_conflicts(admin, manager_api):
    access_services.training_create(actor=admin, name="GDPR")
    invalid = manager_api.post(
        f"{API}/trainings/", {"name": "New", "validity_days": 0}, format="json"
    )
    taken = manager_api.post(f"{API}/trainings/", {"name": "gdpr"}, format="json")
    assert invalid.status_code == 400
    assert "validity_days" in invalid.json()["details"]["fields"]
    assert taken.status_code == 409
    assert taken.json()["code"] == "training_name_taken"


def test_ordinary_user_reads_trainings_but_cannot_change_them(admin, api):
    training = access_services.training_create(actor=admin, name="GDPR")
    assert api.get(f"{API}/trainings/{training.pk}/").status_code == 200
    assert api.post(f"{API}/trainings/", {"name": "X"}, format="json").status_code == 403
    response = api.patch(f"{API}/trainings/{training.pk}/", {"name": "X"}, format="json")
    assert response.status_code == 403
    assert api.get(f"{API}/trainings/999999/").status_code == 404


def test_recording_a_completion_grants_what_the_training_was_holding_back(admin, manager_api, user):
    # given: a role whose capability needs a training that lasts 30 days
    training = access_services.training_create(actor=admin, name="Privacy", validity_days=30)
    role = _role(admin, "Exporters", AUDIT, trainings=[training])
    access_services.role_assign(actor=admin, user=user, role=role)
    assert not _holds(user, AUDIT)
    completed_on = timezone.localdate() - dt.timedelta(days=2)

    # when
    response = manager_api.post(
        f"{API}/training-completions/",
        {"user": user.pk, "training": training.pk, "completed_on": completed_on.isoformat()},
        format="json",
    )

    # then
    assert response.status_code == 201
    expires_on = completed_on + dt.timedelta(days=30)
    assert response.json()["expires_on"] == expires_on.isoformat()
    assert _holds(user, AUDIT)
    grant = Grant.objects.effective().get(user=user, capability=AUDIT)
    assert f"training “Privacy” valid until {expires_on:%Y-%m-%d}" in grant.reason

    # and removing the completion takes the capability away again
    removed = manager_api.delete(f"{API}/training-completions/{response.json()['id']}/")
    assert removed.status_code == 204
    assert not _holds(user, AUDIT)


def test_completion_in_the_future_or_for_an_unknown_training_is_400(admin, manager_api, user):
    training = access_services.training_create(actor=admin, name="Privacy")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    future = manager_api.post(
        f"{API}/training-completions/",
        {"user": user.pk, "training": training.pk, "completed_on": tomorrow.isoformat()},
        format="json",
    )
    unknown = manager_api.post(
        f"{API}/training-completions/",
        {"user": user.pk, "training": 999999, "completed_on": "2024-01-01"},
        format="json",
    )
    assert future.status_code == 400
    assert future.json()["code"] == "completion_in_future"
    assert unknown.status_code == 400
    assert "training" in unknown.json()["details"]["fields"]


def test_people_see_their_own_completions_only_and_cannot_record_or_remove(
    admin, api, user, stranger
):
    # given
    training = access_services.training_create(actor=admin, name="Privacy")
    mine = access_services.training_completion_record(
        actor=admin, user=user, training=training, completed_on=timezone.localdate()
    )
    theirs = access_services.training_completion_record(
        actor=admin, user=stranger, training=training, completed_on=timezone.localdate()
    )

    # when / then
    listing = api.get(f"{API}/training-completions/").json()
    assert [c["id"] for c in listing["results"]] == [mine.pk]
    assert api.delete(f"{API}/training-completions/{mine.pk}/").status_code == 403
    assert api.delete(f"{API}/training-completions/{theirs.pk}/").status_code == 404
    recorded = api.post(
        f"{API}/training-completions/",
        {"user": user.pk, "training": training.pk, "completed_on": "2024-01-01"},
        format="json",
    )
    assert recorded.status_code == 403
    assert TrainingCompletion.objects.count() == 2


# --- Role assignments and grants ----------------------------------------------------------------


def test_time_bound_assignment_creates_a_grant_that_expires_with_it(admin, manager_api, user):
    # given
    role = _role(admin, "Auditors", AUDIT)
    ends_at = (timezone.now() + dt.timedelta(days=7)).replace(microsecond=0)

    # when
    response = manager_api.post(
        f"{API}/role-assignments/",
        {"user": user.pk, "role": role.pk, "ends_at": ends_at.isoformat()},
        format="json",
    )

    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["source"], body["subject"], body["is_active"]) == ("explicit", "Auditors", True)
    grant = Grant.objects.effective().get(user=user, capability=AUDIT)
    assert grant.expires_at == ends_at
    assert manager_api.get(f"{API}/role-assignments/{body['id']}/").status_code == 200


def test_assigning_a_role_twice_is_a_conflict_and_past_end_is_400(admin, manager_api, user):
    role = _role(admin, "Auditors", AUDIT)
    access_services.role_assign(actor=admin, user=user, role=role)
    again = manager_api.post(
        f"{API}/role-assignments/", {"user": user.pk, "role": role.pk}, format="json"
    )
    past = manager_api.post(
        f"{API}/role-assignments/",
        {"user": UserFactory().pk, "role": role.pk, "ends_at": "2020-01-01T00:00:00Z"},
        format="json",
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_assigned"
    assert past.status_code == 400
    assert past.json()["code"] == "ends_in_past"


def test_removing_an_assignment_ends_the_access_and_a_second_removal_conflicts(
    admin, manager_api, user
):
    role = _role(admin, "Auditors", AUDIT)
    assignment = access_services.role_assign(actor=admin, user=user, role=role)

    removed = manager_api.delete(f"{API}/role-assignments/{assignment.pk}/")
    again = manager_api.delete(f"{API}/role-assignments/{assignment.pk}/")

    assert removed.status_code == 204
    assert not _holds(user, AUDIT)
    assignment.refresh_from_db()
    assert assignment.ended_at is not None
    assert again.status_code == 409
    assert again.json()["code"] == "already_ended"


def test_ordinary_user_cannot_assign_roles_and_cannot_see_others_assignments(
    admin, api, user, stranger
):
    role = _role(admin, "Auditors", AUDIT)
    theirs = access_services.role_assign(actor=admin, user=stranger, role=role)
    mine = access_services.role_assign(actor=admin, user=user, role=_role(admin, "Mine"))

    assigned = api.post(
        f"{API}/role-assignments/", {"user": user.pk, "role": role.pk}, format="json"
    )
    assert assigned.status_code == 403
    assert api.delete(f"{API}/role-assignments/{mine.pk}/").status_code == 403
    assert api.get(f"{API}/role-assignments/{theirs.pk}/").status_code == 404
    assert api.delete(f"{API}/role-assignments/{theirs.pk}/").status_code == 404
    listing = api.get(f"{API}/role-assignments/").json()
    assert [a["id"] for a in listing["results"]] == [mine.pk]


def test_role_assignment_with_bad_input_is_400(manager_api, user):
    response = manager_api.post(
        f"{API}/role-assignments/", {"user": user.pk, "role": "auditors"}, format="json"
    )
    assert response.status_code == 400
    assert "role" in response.json()["details"]["fields"]


def test_grants_show_reasons_to_their_holder_and_hide_others(admin, api, user, stranger):
    role = _role(admin, "Auditors", AUDIT)
    access_services.role_assign(actor=admin, user=user, role=role)
    access_services.role_assign(actor=admin, user=stranger, role=role)
    mine = Grant.objects.get(user=user)
    theirs = Grant.objects.get(user=stranger)

    listing = api.get(f"{API}/grants/", {"capability": AUDIT}).json()

    assert [g["id"] for g in listing["results"]] == [mine.pk]
    assert listing["results"][0]["reason"] == "Auditors role"
    assert listing["results"][0]["in_force"] is True
    assert api.get(f"{API}/grants/{mine.pk}/").status_code == 200
    assert api.get(f"{API}/grants/{theirs.pk}/").status_code == 404
    assert api.get(f"{API}/grants/", {"active": "maybe"}).status_code == 400


def test_grants_are_read_only(admin_api):
    assert admin_api.post(f"{API}/grants/", {}, format="json").status_code == 405


# --- Access requests ------------------------------------------------------------------------------


@pytest.fixture
def boss(admin):
    """A manager who holds audit.view, so may hand it on."""
    person = UserFactory(full_name="Bo Boss")
    access_services.role_assign(actor=admin, user=person, role=_role(admin, "Leads", AUDIT))
    return person


@pytest.fixture
def requester(boss):
    return UserFactory(full_name="Rae Requester", manager=boss)


def _request(requester, role, days=14) -> AccessRequest:
    return access_services.access_request_create(
        requester=requester, role=role, justification="Quarterly audit", duration_days=days
    )


def test_manager_approval_creates_a_time_bound_grant_and_the_requester_cannot_approve(
    admin, boss, requester
):
    # given
    role = _role(admin, "Auditors", AUDIT)
    requester_api, boss_api = _client_for(requester), _client_for(boss)

    # when: the requester asks
    created = requester_api.post(
        f"{API}/access-requests/",
        {"role": role.pk, "justification": "Quarterly audit", "duration_days": 14},
        format="json",
    )

    # then: their manager and the role's owner may decide, the requester may not
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "pending"
    assert body["approver_ids"] == sorted([admin.pk, boss.pk])
    assert body["can_decide"] is False
    own = requester_api.post(f"{API}/access-requests/{body['id']}/approve/", {}, format="json")
    assert own.status_code == 403
    assert own.json()["code"] == "own_request"
    assert not _holds(requester, AUDIT)
    assert boss_api.get(f"{API}/access-requests/{body['id']}/").json()["can_decide"] is True

    # when: the manager approves
    approved = boss_api.post(
        f"{API}/access-requests/{body['id']}/approve/", {"note": "ok"}, format="json"
    )

    # then: access now, ending by itself after 14 days
    assert approved.status_code == 200
    decision = approved.json()
    assert (decision["status"], decision["decided_by_id"], decision["decision_note"]) == (
        "approved",
        boss.pk,
        "ok",
    )
    ends = dt.datetime.fromisoformat(decision["access_ends_at"])
    assert abs(ends - (timezone.now() + dt.timedelta(days=14))) < dt.timedelta(minutes=1)
    assert _holds(requester, AUDIT)
    grant = Grant.objects.effective().get(user=requester, capability=AUDIT)
    assert grant.expires_at == ends
    assert f"access request #{body['id']}" in grant.reason


def test_a_decided_request_cannot_be_decided_again(admin, boss, requester):
    access_request = _request(requester, _role(admin, "Auditors", AUDIT))
    boss_api = _client_for(boss)
    rejected = boss_api.post(
        f"{API}/access-requests/{access_request.pk}/reject/", {"note": "not now"}, format="json"
    )
    again = boss_api.post(f"{API}/access-requests/{access_request.pk}/approve/")
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert again.status_code == 409
    assert again.json()["code"] == "not_pending"
    assert not _holds(requester, AUDIT)


def test_a_decision_note_must_be_text(admin, boss, requester):
    access_request = _request(requester, _role(admin, "Auditors", AUDIT))
    response = _client_for(boss).post(
        f"{API}/access-requests/{access_request.pk}/reject/", {"note": {"a": 1}}, format="json"
    )
    assert response.status_code == 400
    assert "note" in response.json()["details"]["fields"]
    access_request.refresh_from_db()
    assert access_request.status == "pending"


def test_only_the_requester_cancels_and_only_approvers_decide(admin, boss, requester):
    # given: someone who sees every request but approves none of these
    watcher = UserFactory()
    access_services.role_assign(actor=admin, user=watcher, role=_role(admin, "Watchers", VIEW))
    access_request = _request(requester, _role(admin, "Auditors", AUDIT))
    watcher_api = _client_for(watcher)

    # when / then
    not_approver = watcher_api.post(f"{API}/access-requests/{access_request.pk}/approve/")
    assert not_approver.status_code == 403
    assert not_approver.json()["code"] == "not_an_approver"
    assert watcher_api.post(f"{API}/access-requests/{access_request.pk}/cancel/").status_code == (
        403
    )
    cancelled = _client_for(requester).post(f"{API}/access-requests/{access_request.pk}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"


def test_requests_of_others_are_not_visible(admin, requester, stranger_api):
    access_request = _request(requester, _role(admin, "Auditors", AUDIT))
    assert stranger_api.get(f"{API}/access-requests/{access_request.pk}/").status_code == 404
    assert stranger_api.post(f"{API}/access-requests/{access_request.pk}/approve/").status_code == (
        404
    )
    assert stranger_api.get(f"{API}/access-requests/").json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"capability": AUDIT, "justification": "x", "duration_days": 0}, "invalid"),
        ({"capability": "no.such", "justification": "x", "duration_days": 5}, "invalid"),
        ({"justification": "x", "duration_days": 5}, "role_or_capability"),
        ({"capability": AUDIT, "justification": " ", "duration_days": 5}, "invalid"),
    ],
)
def test_access_request_with_bad_input_is_400(api, body, code):
    response = api.post(f"{API}/access-requests/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_asking_twice_for_the_same_access_is_a_conflict(api):
    body = {"capability": AUDIT, "justification": "Audit", "duration_days": 5}
    assert api.post(f"{API}/access-requests/", body, format="json").status_code == 201
    again = api.post(f"{API}/access-requests/", body, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_request"


def test_my_requests_filter(admin, requester, boss):
    _request(requester, _role(admin, "Auditors", AUDIT))
    boss_api = _client_for(boss)
    assert boss_api.get(f"{API}/access-requests/").json()["count"] == 1
    assert boss_api.get(f"{API}/access-requests/", {"mine": "true"}).json()["count"] == 0
    assert boss_api.get(f"{API}/access-requests/", {"status": "nope"}).status_code == 400


# --- Access reviews ---------------------------------------------------------------------------


def _deadline(days=7) -> str:
    return (timezone.now() + dt.timedelta(days=days)).isoformat()


def test_review_revoke_by_the_role_owner_ends_the_access(admin, manager_api, boss, user):
    # given: the boss owns a role the user holds
    role = _role(admin, "Auditors", AUDIT, owner=boss)
    assignment = access_services.role_assign(actor=admin, user=user, role=role)
    created = manager_api.post(
        f"{API}/reviews/",
        {
            "name": "Q3 auditors",
            "roles": [role.pk],
            "deadline": _deadline(),
            "unreviewed_policy": "keep",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    campaign = created.json()
    assert (campaign["item_count"], campaign["decided_count"], campaign["is_open"]) == (1, 0, True)
    boss_api = _client_for(boss)

    # when: the reviewer sees their item and revokes it
    items = boss_api.get(f"{API}/review-items/", {"campaign": campaign["id"]}).json()["results"]
    assert [(i["user_id"], i["subject"], i["can_decide"]) for i in items] == [
        (user.pk, "Auditors", True)
    ]
    assert boss_api.get(f"{API}/review-items/{items[0]['id']}/").json() == items[0]
    decided = boss_api.post(
        f"{API}/review-items/{items[0]['id']}/decide/",
        {"decision": "revoke", "note": "left the project"},
        format="json",
    )

    # then
    assert decided.status_code == 200
    assert decided.json()["decision"] == "revoke"
    assignment.refresh_from_db()
    assert assignment.ended_at is not None
    assert not _holds(user, AUDIT)
    progress = manager_api.get(f"{API}/reviews/{campaign['id']}/").json()
    assert (progress["item_count"], progress["decided_count"]) == (1, 1)


def test_closing_a_review_applies_its_policy_to_undecided_items(admin, manager_api, user):
    role = _role(admin, "Auditors", AUDIT)
    access_services.role_assign(actor=admin, user=user, role=role)
    campaign = access_services.review_campaign_create(
        actor=admin,
        name="Strict",
        roles=[role],
        deadline=timezone.now() + dt.timedelta(days=3),
        unreviewed_policy="revoke",
    )

    closed = manager_api.post(f"{API}/reviews/{campaign.pk}/close/")
    again = manager_api.post(f"{API}/reviews/{campaign.pk}/close/")

    assert closed.status_code == 200
    assert closed.json()["is_open"] is False
    assert closed.json()["decided_count"] == 1
    assert not _holds(user, AUDIT)
    assert ReviewItem.objects.get(campaign=campaign).by_policy
    assert again.status_code == 409
    assert again.json()["code"] == "review_closed"
    item = ReviewItem.objects.get(campaign=campaign)
    late = manager_api.post(
        f"{API}/review-items/{item.pk}/decide/", {"decision": "keep"}, format="json"
    )
    assert late.status_code == 409


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "Empty", "deadline": _deadline(), "unreviewed_policy": "keep"}, "empty_review"),
        (
            {
                "name": "Late",
                "capabilities": [AUDIT],
                "deadline": "2020-01-01T00:00:00Z",
                "unreviewed_policy": "keep",
            },
            "deadline_in_past",
        ),
        (
            {
                "name": "Odd",
                "capabilities": ["no.such"],
                "deadline": _deadline(),
                "unreviewed_policy": "keep",
            },
            "invalid",
        ),
        (
            {
                "name": "Odd",
                "capabilities": [AUDIT],
                "deadline": _deadline(),
                "unreviewed_policy": "shrug",
            },
            "invalid",
        ),
    ],
)
def test_review_with_bad_input_is_400(manager_api, body, code):
    response = manager_api.post(f"{API}/reviews/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_ordinary_users_cannot_run_reviews_or_see_other_reviews(admin, api, stranger, user):
    # given: a review in which the user reviews nothing
    role = _role(admin, "Auditors", AUDIT)
    access_services.role_assign(actor=admin, user=stranger, role=role)
    campaign = access_services.review_campaign_create(
        actor=admin,
        name="Q3",
        roles=[role],
        deadline=timezone.now() + dt.timedelta(days=3),
        unreviewed_policy="keep",
    )
    item = ReviewItem.objects.get(campaign=campaign)

    # when / then
    started = api.post(
        f"{API}/reviews/",
        {"name": "Mine", "roles": [role.pk], "deadline": _deadline(), "unreviewed_policy": "keep"},
        format="json",
    )
    assert started.status_code == 403
    assert api.get(f"{API}/reviews/").json()["count"] == 0
    assert api.get(f"{API}/reviews/{campaign.pk}/").status_code == 404
    assert api.post(f"{API}/reviews/{campaign.pk}/close/").status_code == 404
    assert api.get(f"{API}/review-items/").json()["count"] == 0
    refused = api.post(
        f"{API}/review-items/{item.pk}/decide/", {"decision": "revoke"}, format="json"
    )
    assert refused.status_code == 404
    assert _holds(stranger, AUDIT)


def test_a_reviewer_cannot_close_the_review_nor_decide_their_own_access(admin, boss):
    # given: the boss owns a role that their report and they themselves hold; an owner never
    # reviews their own holding, so that item falls to the review's creator
    role = _role(admin, "Auditors", AUDIT, owner=boss)
    report = UserFactory(manager=boss)
    access_services.role_assign(actor=admin, user=report, role=role)
    access_services.role_assign(actor=admin, user=boss, role=role)
    campaign = access_services.review_campaign_create(
        actor=admin,
        name="Q3",
        roles=[role],
        deadline=timezone.now() + dt.timedelta(days=3),
        unreviewed_policy="keep",
    )
    boss_api = _client_for(boss)

    # then: the boss sees and may decide their report's item only
    items = boss_api.get(f"{API}/review-items/").json()["results"]
    assert [i["user_id"] for i in items] == [report.pk]
    own_item = ReviewItem.objects.get(campaign=campaign, user=boss)
    assert own_item.reviewer_id == admin.pk
    assert (
        boss_api.post(
            f"{API}/review-items/{own_item.pk}/decide/", {"decision": "keep"}, format="json"
        ).status_code
        == 404
    )
    closing = boss_api.post(f"{API}/reviews/{campaign.pk}/close/")
    assert closing.status_code == 403
    bad = boss_api.post(
        f"{API}/review-items/{items[0]['id']}/decide/", {"decision": "maybe"}, format="json"
    )
    assert bad.status_code == 400


def test_review_decide_on_own_access_is_403_even_for_an_access_manager(admin, manager, manager_api):
    role = _role(admin, "Auditors", AUDIT)
    access_services.role_assign(actor=admin, user=manager, role=role)
    campaign = access_services.review_campaign_create(
        actor=admin,
        name="Q3",
        roles=[role],
        deadline=timezone.now() + dt.timedelta(days=3),
        unreviewed_policy="keep",
    )
    item = ReviewItem.objects.get(campaign=campaign, user=manager)
    response = manager_api.post(
        f"{API}/review-items/{item.pk}/decide/", {"decision": "revoke"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "own_access"
