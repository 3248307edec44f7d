"""The people API: the directory everyone reads, and adding and editing people, which needs
accounts.manage_access (403 otherwise), refuses bad input (400) and conflicts (409), and
applies birthright roles at once.
"""

import pytest
from rest_framework.test import APIClient

from apps.access import services as access_services
from apps.access.models import (
    AccessAssignment,
    AssignmentSource,
    Role,
)
from apps.access.rules import access_recompute, user_can
from apps.accounts.models import User
from apps.accounts.services import api_token_create
from apps.audit.models import AuditEvent
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


def test_everyone_reads_the_people_directory(api, stranger):
    listing = api.get(f"{API}/users/", {"team": "finance"})
    assert listing.status_code == 200
    assert [p["id"] for p in listing.json()["results"]] == [stranger.pk]
    assert api.get(f"{API}/users/{stranger.pk}/").json()["full_name"] == "Sam Stranger"
    assert api.get(f"{API}/users/999999/").status_code == 404
    assert api.get(f"{API}/users/", {"is_active": "maybe"}).status_code == 400


def test_access_manager_creates_a_person_who_gets_birthright_roles_at_once(admin, manager_api):
    # given
    role = _role(admin, "Analytics", AUDIT)
    access_services.birthright_rule_add(actor=admin, role=role, team="Analytics")

    # when
    response = manager_api.post(
        f"{API}/users/",
        {
            "email": "New.Person@Acme.example",
            "full_name": "New Person",
            "team": "Analytics",
            "start_date": "2024-01-15",
            "password": "a-long-enough-passphrase-42",
        },
        format="json",
    )

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "new.person@acme.example"
    assert "password" not in body
    person = User.objects.get(pk=body["id"])
    assert person.check_password("a-long-enough-passphrase-42")
    assert AccessAssignment.objects.filter(
        user=person, role=role, source=AssignmentSource.BIRTHRIGHT, ended_at__isnull=True
    ).exists()
    assert _holds(person, AUDIT)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "full_name": "X"}, "email"),
        ({"email": "x@acme.example", "full_name": ""}, "full_name"),
        ({"email": "x@acme.example", "full_name": "X", "password": "123"}, "password"),
        ({"email": "x@acme.example", "full_name": "X", "start_date": "0001-01-01"}, "start_date"),
        ({"email": "x@acme.example", "full_name": "X", "manager": 999999}, "manager"),
    ],
)
def test_creating_a_person_with_bad_input_is_400_naming_the_field(manager_api, body, field):
    response = manager_api.post(f"{API}/users/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["details"]["fields"]


def test_creating_a_person_whose_email_is_taken_is_refused(manager_api, stranger):
    response = manager_api.post(
        f"{API}/users/", {"email": stranger.email.upper(), "full_name": "Twin"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


def test_ordinary_user_cannot_create_people(api):
    response = api.post(
        f"{API}/users/", {"email": "x@acme.example", "full_name": "X"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not User.objects.filter(email="x@acme.example").exists()


def test_access_manager_edits_and_deactivates_a_person(manager_api, stranger, manager):
    response = manager_api.patch(
        f"{API}/users/{stranger.pk}/",
        {"team": "Growth", "job_title": "Analyst", "manager": manager.pk, "is_active": False},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["team"], body["job_title"], body["manager_id"]) == (
        "Growth",
        "Analyst",
        manager.pk,
    )
    assert body["is_active"] is False
    assert AuditEvent.objects.filter(action="accounts.user.deactivated").exists()


def test_a_refused_part_of_a_person_update_undoes_the_rest(manager_api, manager):
    # when: a valid name change together with deactivating oneself
    response = manager_api.patch(
        f"{API}/users/{manager.pk}/", {"full_name": "Mara M.", "is_active": False}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "deactivate_self"
    manager.refresh_from_db()
    assert manager.full_name == "Mara Manager"
    assert manager.is_active


@pytest.mark.parametrize(
    ("body", "code"),
    [({}, "invalid"), ({"start_date": "31/12/2024"}, "invalid"), ({"full_name": ""}, "invalid")],
)
def test_person_update_with_bad_input_is_400(manager_api, stranger, body, code):
    response = manager_api.patch(f"{API}/users/{stranger.pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_a_person_cannot_become_their_own_manager(manager_api, stranger):
    response = manager_api.patch(
        f"{API}/users/{stranger.pk}/", {"manager": stranger.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "manager_cycle"


def test_management_chains_cannot_loop(manager_api, stranger):
    from tests.factories import UserFactory

    boss = UserFactory(manager=stranger)
    response = manager_api.patch(f"{API}/users/{stranger.pk}/", {"manager": boss.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "manager_cycle"


def test_ordinary_user_cannot_edit_people_even_themselves(api, user):
    response = api.patch(f"{API}/users/{user.pk}/", {"job_title": "CEO"}, format="json")
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.job_title == "Marketing Technologist"


def test_editing_an_unknown_person_is_404(manager_api):
    response = manager_api.patch(f"{API}/users/999999/", {"team": "X"}, format="json")
    assert response.status_code == 404


def test_deactivating_a_person_ends_their_birthright_role_naming_who_deactivated_them(
    admin, manager, manager_api
):
    # given: Ana holds a birthright role her team still matches
    role = _role(admin, "Analytics", AUDIT)
    access_services.birthright_rule_add(actor=admin, role=role, team="Analytics")
    ana = UserFactory(full_name="Ana Costa", team="Analytics")
    access_recompute(user=ana)
    assert _holds(ana, AUDIT)

    # when: Mara deactivates her
    response = manager_api.patch(f"{API}/users/{ana.pk}/", {"is_active": False}, format="json")

    # then: the birthright assignment ended because Mara deactivated her, not because the
    # rule stopped matching
    assert response.status_code == 200, response.json()
    listing = manager_api.get(f"{API}/role-assignments/", {"user": ana.pk}).json()
    birthright = [a for a in listing["results"] if a["source"] == AssignmentSource.BIRTHRIGHT]
    assert [a["end_reason"] for a in birthright] == ["deactivated by Mara Manager"]
