"""SCIM 2.0 provisioning at /scim/v2/: the identity provider creates, updates and deactivates
people, and the console's access follows; the protocol checked by scim2-tester, the RFC
compliance checker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status

from apps.access import services as access
from apps.access.rules import user_can
from apps.accounts.models import ApiToken
from apps.accounts.services import api_token_create
from apps.audit.models import AuditEvent
from tests import factories

User = get_user_model()
SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CONSOLE = "urn:ietf:params:scim:schemas:extension:martech:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def provider_account(admin):
    """The identity provider's own account: a role holding the provisioning capability."""
    return factories.person_with(admin, "provisioning.provision_people", name="Okta Provisioning")


@pytest.fixture
def token(provider_account):
    _, raw = api_token_create(user=provider_account, name="Okta SCIM")
    return raw


def _call(client, method, path, token, body=None, **headers):
    kwargs = {"content_type": SCIM, "HTTP_AUTHORIZATION": f"Bearer {token}"}
    kwargs.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    if body is not None:
        import json

        kwargs["data"] = json.dumps(body)
    return getattr(client, method)(f"/scim/v2{path}", **kwargs)


def _new_hire(**overrides):
    body = {
        "schemas": [USER, ENTERPRISE, CONSOLE],
        "userName": "nadia.kovacs@acme.example",
        "name": {"givenName": "Nadia", "familyName": "Kovacs"},
        "emails": [{"value": "nadia.kovacs@acme.example", "primary": True, "type": "work"}],
        "title": "Marketing Analyst",
        "active": True,
        ENTERPRISE: {"department": "Growth", "employeeNumber": "E-1042"},
        CONSOLE: {"startDate": "2026-11-02"},
    }
    body.update(overrides)
    return body


@pytest.fixture
def in_process():
    """The console's WSGI application called in the test's own transaction, as Django's test
    client calls it: the connection is not closed at the end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_the_scim_endpoint_passes_scim2_tester_with_no_failures(in_process, token):
    client = WSGISCIMClient(
        in_process,
        base_url="http://testserver/scim/v2",
        headers={"Authorization": f"Bearer {token}"},
    )

    results = check_server(client)

    failures = [
        f"{r.title}: {r.reason}" for r in results if r.status in (Status.ERROR, Status.CRITICAL)
    ]
    assert not failures, "\n\n".join(failures)
    # every kind of check ran, on both resource types
    passed = {(r.title, r.resource_type) for r in results if r.status == Status.SUCCESS}
    titles = {title for title, _ in passed}
    assert {"object_creation", "object_query", "object_replacement", "object_deletion"} <= titles
    assert {"check_add_attribute", "check_replace_attribute", "check_remove_attribute"} <= titles
    assert {kind for _, kind in passed} >= {"User", "Group"}


def test_a_new_hire_becomes_a_person_with_the_hr_records_team_title_and_start(
    client, token, provider_account
):
    created = _call(client, "post", "/Users", token, _new_hire())

    assert created.status_code == 201, created.content
    assert created["Content-Type"] == SCIM
    body = created.json()
    assert body["meta"]["version"] == created["ETag"]
    person = User.objects.get(email="nadia.kovacs@acme.example")
    assert (person.full_name, person.team, person.job_title, person.start_date) == (
        "Nadia Kovacs",
        "Growth",
        "Marketing Analyst",
        dt.date(2026, 11, 2),
    )
    assert not person.has_usable_password()
    event = AuditEvent.objects.get(action="accounts.user.created", target_id=str(person.pk))
    assert event.actor_id == provider_account.pk
    scim = AuditEvent.objects.get(action="provisioning.user.created")
    assert (scim.actor_id, scim.metadata["person"]) == (provider_account.pk, person.pk)


def test_every_group_change_is_audited_with_the_provider_as_actor(client, token, provider_account):
    group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Growth"}
    scim_id = _call(client, "post", "/Groups", token, group).json()["id"]
    _call(client, "put", f"/Groups/{scim_id}", token, {**group, "displayName": "Growth EMEA"})
    _call(client, "delete", f"/Groups/{scim_id}", token)

    events = AuditEvent.objects.filter(action__startswith="provisioning.group.").order_by("id")

    assert [(e.action, e.actor_id) for e in events] == [
        ("provisioning.group.created", provider_account.pk),
        ("provisioning.group.updated", provider_account.pk),
        ("provisioning.group.deleted", provider_account.pk),
    ]
    assert events[1].target_repr == "SCIM Group growth emea"


def test_a_title_change_moves_a_birthright_role_and_deactivation_stops_everything(
    client, token, admin
):
    role = access.role_create(actor=admin, name="Lifecycle", owner=admin)
    access.role_capability_set(actor=admin, role=role, capability="audit.view")
    access.birthright_rule_add(actor=admin, role=role, job_title_contains="lifecycle")
    scim_id = _call(client, "post", "/Users", token, _new_hire()).json()["id"]
    person = User.objects.get(email="nadia.kovacs@acme.example")
    assert not user_can(person, "audit.view")

    moved = _call(
        client,
        "patch",
        f"/Users/{scim_id}",
        token,
        {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "title", "value": "Lifecycle Lead"}],
        },
    )
    assert moved.status_code in (200, 204), moved.content
    person.refresh_from_db()
    assert person.job_title == "Lifecycle Lead"
    assert user_can(User.objects.get(pk=person.pk), "audit.view")

    # signed in, with a token of their own: deactivation ends both at once
    api_token_create(user=person, name="laptop")
    session = type(client)()
    session.force_login(person)
    off = _call(
        client,
        "patch",
        f"/Users/{scim_id}",
        token,
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]},
    )
    assert off.status_code in (200, 204), off.content
    person = User.objects.get(pk=person.pk)
    assert not person.is_active
    assert not user_can(person, "audit.view")
    assert ApiToken.objects.get(user=person).revoked_at is not None
    assert session.get("/").status_code == 302  # signed out

    # back again: active, but the token stays revoked and the session ended
    on = _call(
        client,
        "patch",
        f"/Users/{scim_id}",
        token,
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": True}]},
    )
    assert on.status_code in (200, 204), on.content
    assert User.objects.get(pk=person.pk).is_active
    assert ApiToken.objects.get(user=person).revoked_at is not None
    assert session.get("/").status_code == 302


def test_deleting_a_user_deactivates_the_person_and_keeps_their_record(client, token):
    scim_id = _call(client, "post", "/Users", token, _new_hire()).json()["id"]

    gone = _call(client, "delete", f"/Users/{scim_id}", token)

    assert gone.status_code == 204
    assert _call(client, "get", f"/Users/{scim_id}", token).status_code == 404
    assert User.objects.get(email="nadia.kovacs@acme.example").is_active is False


def test_a_manager_is_the_person_of_the_user_the_enterprise_extension_names(client, token):
    boss = _call(
        client,
        "post",
        "/Users",
        token,
        _new_hire(
            userName="marta.silva@acme.example",
            emails=[{"value": "marta.silva@acme.example", "primary": True}],
        ),
    ).json()["id"]

    report = _call(
        client,
        "post",
        "/Users",
        token,
        _new_hire(**{ENTERPRISE: {"department": "Growth", "manager": {"value": boss}}}),
    )

    assert report.status_code == 201, report.content
    person = User.objects.get(email="nadia.kovacs@acme.example")
    assert person.manager.email == "marta.silva@acme.example"


def test_an_existing_person_is_linked_by_email_and_a_superuser_is_never_provisioned(
    client, token, admin
):
    colleague = factories.UserFactory(email="nadia.kovacs@acme.example", team="Brand")

    linked = _call(client, "post", "/Users", token, _new_hire(userName="NADIA.KOVACS@acme.example"))

    assert linked.status_code == 201, linked.content
    colleague.refresh_from_db()
    assert colleague.team == "Growth"
    refused = _call(
        client,
        "post",
        "/Users",
        token,
        _new_hire(userName=admin.email, emails=[{"value": admin.email, "primary": True}]),
    )
    assert refused.status_code == 400
    assert refused.json()["scimType"] == "mutability"
    assert User.objects.get(pk=admin.pk).is_active


def test_a_taken_user_name_is_a_409_and_a_malformed_email_a_400(client, token):
    assert _call(client, "post", "/Users", token, _new_hire()).status_code == 201

    taken = _call(client, "post", "/Users", token, _new_hire())
    malformed = _call(
        client, "post", "/Users", token, _new_hire(userName="nk", emails=[{"value": "nk@"}])
    )

    assert (taken.status_code, taken.json()["scimType"]) == (409, "uniqueness")
    assert (malformed.status_code, malformed.json()["scimType"]) == (400, "invalidValue")


def test_a_start_date_that_is_no_date_is_a_400_and_changes_nothing(client, token):
    refused = _call(client, "post", "/Users", token, _new_hire(**{CONSOLE: {"startDate": "soon"}}))

    assert (refused.status_code, refused.json()["scimType"]) == (400, "invalidValue")
    assert "2026-01-05" in refused.json()["detail"]
    assert not User.objects.filter(email="nadia.kovacs@acme.example").exists()


def test_a_user_without_an_email_provisions_nobody_until_it_has_one(client, token):
    scim_id = _call(
        client, "post", "/Users", token, _new_hire(userName="nkovacs", emails=[])
    ).json()["id"]
    assert not User.objects.filter(full_name="Nadia Kovacs").exists()

    given = _call(
        client,
        "patch",
        f"/Users/{scim_id}",
        token,
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "add", "path": "emails", "value": [{"value": "nadia.kovacs@acme.example"}]}
            ],
        },
    )

    assert given.status_code in (200, 204), given.content
    assert User.objects.get(email="nadia.kovacs@acme.example").full_name == "Nadia Kovacs"


def test_users_are_found_by_filter_and_paged(client, token):
    for n in range(3):
        _call(
            client,
            "post",
            "/Users",
            token,
            _new_hire(userName=f"p{n}@acme.example", emails=[{"value": f"p{n}@acme.example"}]),
        )

    found = _call(client, "get", '/Users?filter=userName eq "P1@acme.example"', token).json()
    page = _call(client, "get", "/Users?startIndex=2&count=1", token).json()

    assert [r["userName"] for r in found["Resources"]] == ["p1@acme.example"]
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (3, 2, 1)
    assert page["Resources"][0]["userName"] == "p1@acme.example"


def test_a_stale_etag_is_refused_with_412(client, token):
    created = _call(client, "post", "/Users", token, _new_hire())
    scim_id, etag = created.json()["id"], created["ETag"]
    _call(
        client,
        "put",
        f"/Users/{scim_id}",
        token,
        _new_hire(title="Analyst II"),
        **{"If-Match": etag},
    )

    stale = _call(
        client,
        "put",
        f"/Users/{scim_id}",
        token,
        _new_hire(title="Analyst III"),
        **{"If-Match": etag},
    )

    assert stale.status_code == 412
    assert User.objects.get(email="nadia.kovacs@acme.example").job_title == "Analyst II"


def test_only_a_live_token_whose_owner_holds_the_capability_gets_in(client, token, user):
    _, unprivileged = api_token_create(user=user, name="mine")

    missing = client.get("/scim/v2/Users")
    wrong = _call(client, "get", "/Users", "not-a-token")
    forbidden = _call(client, "get", "/Users", unprivileged)
    config = client.get("/scim/v2/ServiceProviderConfig")

    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert forbidden.status_code == 403
    assert config.status_code == 200  # RFC 7643 §5: no authentication
    assert config.json()["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_malformed_input_is_a_scim_error_never_a_500(client, token):
    broken = client.post(
        "/scim/v2/Users", data=b"{not json", content_type=SCIM, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    huge = client.post(
        "/scim/v2/Users",
        data=b'{"userName": "' + b"x" * (1024 * 1024) + b'"}',
        content_type=SCIM,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    bad_filter = _call(client, "get", '/Users?filter=userName eq "unterminated', token)
    unknown = _call(client, "get", "/Robots", token)
    not_allowed = _call(client, "delete", "/Users", token)

    assert broken.status_code == 400
    assert broken.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert huge.status_code == 413
    assert (bad_filter.status_code, bad_filter.json()["scimType"]) == (400, "invalidFilter")
    assert unknown.status_code == 404
    assert not_allowed.status_code == 405


def test_a_token_whose_owner_was_deactivated_is_refused(client, token, provider_account):
    from apps.accounts.services import user_set_active

    user_set_active(user=provider_account, active=False)

    assert _call(client, "get", "/Users", token).status_code == 401


def test_a_provisioned_persons_page_says_the_identity_provider_is_its_source(
    client, token, admin_client
):
    _call(client, "post", "/Users", token, _new_hire())
    person = User.objects.get(email="nadia.kovacs@acme.example")

    provisioned = admin_client.get(f"/people/{person.pk}/")
    own = admin_client.get(f"/people/{factories.UserFactory().pk}/")

    assert "The identity provider (SCIM)" in provisioned.content.decode()
    assert "The identity provider (SCIM)" not in own.content.decode()
