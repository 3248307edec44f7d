"""A warehouse destination publishes deleted_users, identity_graph, profiles and hash_key in
its schema, into a real DuckDB file; a model computes deleted_users' hash of its own columns
in SQL; the hash key is shown once, to those who manage destinations."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.consent.services import consent_record
from apps.destinations import services
from apps.destinations.models import LoadStatus, PublishedErasure, WarehousePublication
from apps.destinations.tasks import load_warehouse_task
from apps.destinations.warehouse import loader
from apps.destinations.warehouse.publish import publish
from apps.erasure import services as erasure
from apps.erasure.models import TaskStatus
from apps.events.pipeline import process_waiting
from apps.identity.models import Identifier, Merge
from apps.identity.normalise import Ident
from apps.identity.services import link_record
from martech.common import crypto
from martech.common.errors import ConflictError, PermissionDeniedError

from .conftest import person_with, send, warehouse_destination

_destination = warehouse_destination


def _identify(n, user, anon, email):
    return {
        "type": "identify",
        "messageId": f"i{n}",
        "userId": user,
        "anonymousId": anon,
        "traits": {"email": email, "plan": "pro"},
    }


def _key(destination) -> str:
    return crypto.decrypt(WarehousePublication.objects.get(destination=destination).key_token)[
        "key"
    ]


def _consent(email: str, granted: bool) -> None:
    consent_record(
        subject=Ident("email", email),
        purpose="analytics",
        granted=granted,
        source="banner",
        jurisdiction="gdpr",
    )


def test_identity_graph_follows_merges_and_profiles_carry_touch_state_and_consent(
    client, admin, tool, web, duck
):
    # given: a person whose two profiles merged, and consent granted for analytics
    destination = _destination(admin, tool, duck, environment="production")
    link_record(a=("user_id", "u-2"), b=("email", "bo@acme.example"), rule="identify")
    link_record(a=("anonymous_id", "v-9"), b=("device_id", "d-9"), rule="same_event")
    link_record(a=("user_id", "u-2"), b=("anonymous_id", "v-9"), rule="identify")
    winner = Identifier.objects.get(type="user_id", value="u-2").profile_id
    # the merge that brought v-9's profile into u-2's
    merge = next(
        m
        for m in Merge.objects.filter(winner_id=winner, undone_at__isnull=True).order_by("at")
        if "anonymous_id:v-9" in m.identifiers
    )
    _consent("bo@acme.example", True)
    _, raw = web
    send(client, raw, [_identify(1, "u-2", "v-9", "bo@acme.example")])
    process_waiting()

    # when: the worker loads the destination, then publishes
    load_warehouse_task(destination.pk)

    # then
    publication = WarehousePublication.objects.get(destination=destination)
    assert publication.error == ""
    loser = merge.loser_id
    graph = {
        row[0]: row[1:]
        for row in duck.read(
            "SELECT id, profile_id, canonical_profile_id, merged_from "
            "FROM martech_events.identity_graph"
        )
    }
    assert graph["anonymous_id:v-9"] == (winner, winner, loser)
    assert graph["device_id:d-9"] == (winner, winner, loser)
    assert graph["user_id:u-2"][:2] == (winner, winner)
    assert graph["email:bo@acme.example"][:2] == (winner, winner)
    assert publication.rows["identity_graph"] == Identifier.objects.count()
    profiles = {
        row[0]: row[1:]
        for row in duck.read(
            "SELECT profile_id, canonical_profile_id, state, consent_analytics "
            "FROM martech_events.profiles"
        )
    }
    assert profiles[loser][0] == winner  # merged away: its canonical profile is the winner
    assert profiles[winner][:1] == (winner,)
    assert profiles[winner][2] is True  # the consent in force now
    assert duck.read("SELECT id, construction FROM martech_events.hash_key") == [
        ("deleted_users", "sha256(key || ':' || type || ':' || value), lower-case hex")
    ]
    assert duck.read("SELECT key FROM martech_events.hash_key") == [(_key(destination),)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["duck", "pg"])
def test_a_publication_replaces_each_table_whole(admin, tool, where, request):
    warehouse = request.getfixturevalue(where)
    destination = _destination(admin, tool, warehouse, environment="production")
    link_record(a=("user_id", "u-1"), b=("email", "ana@acme.example"), rule="identify")
    link_record(a=("user_id", "u-2"), b=("email", "bo@acme.example"), rule="identify")
    assert publish(destination).error == ""
    assert warehouse.read("SELECT count(*) FROM martech_events.identity_graph") == [(4,)]

    Identifier.objects.filter(type="email", value="bo@acme.example").delete()
    publication = publish(destination)

    assert publication.rows["identity_graph"] == 3
    assert sorted(warehouse.read("SELECT id FROM martech_events.identity_graph")) == [
        ("email:ana@acme.example",),
        ("user_id:u-1",),
        ("user_id:u-2",),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["duck", "pg"])
def test_a_person_whose_consent_does_not_grant_the_required_purposes_is_not_published(
    admin, tool, where, request
):
    # given: a production destination requiring analytics; Ana grants it, Bo refuses it
    warehouse = request.getfixturevalue(where)
    destination = _destination(
        admin, tool, warehouse, environment="production", purposes=["analytics"]
    )
    link_record(a=("user_id", "u-1"), b=("email", "ana@acme.example"), rule="identify")
    link_record(a=("user_id", "u-2"), b=("email", "bo@acme.example"), rule="identify")
    link_record(a=("user_id", "u-2"), b=("phone", "+14155550123"), rule="identify")
    _consent("ana@acme.example", True)
    _consent("bo@acme.example", False)
    ana = Identifier.objects.get(type="user_id", value="u-1").profile_id

    # when
    publication = publish(destination)

    # then: only Ana's identifiers and profile; nothing of Bo's
    assert publication.error == ""
    assert sorted(warehouse.read("SELECT id FROM martech_events.identity_graph")) == [
        ("email:ana@acme.example",),
        ("user_id:u-1",),
    ]
    assert warehouse.read("SELECT profile_id FROM martech_events.profiles") == [(ana,)]
    assert publication.rows["identity_graph"] == 2
    assert publication.rows["profiles"] == 1

    # when: Bo grants analytics, and Ana withdraws it
    _consent("bo@acme.example", True)
    _consent("ana@acme.example", False)
    publish(destination)

    # then
    assert sorted(warehouse.read("SELECT id FROM martech_events.identity_graph")) == [
        ("email:bo@acme.example",),
        ("phone:+14155550123",),
        ("user_id:u-2",),
    ]
    assert warehouse.read("SELECT count(*) FROM martech_events.profiles") == [(1,)]


def test_a_sandbox_destination_publishes_no_production_people(client, admin, tool, duck):
    # given: a production destination that published everyone, then set to sandbox
    destination = _destination(admin, tool, duck, environment="production")
    link_record(a=("user_id", "u-1"), b=("email", "ana@acme.example"), rule="identify")
    _consent("ana@acme.example", True)
    assert publish(destination).rows["identity_graph"] == 2
    services.destination_update(actor=admin, destination=destination, environment="sandbox")
    destination.refresh_from_db()

    # when
    publication = publish(destination)

    # then: the key and the erased hashes only; the people are gone from the warehouse
    assert publication.error == ""
    assert publication.rows == {
        "hash_key": 1,
        "deleted_users": 0,
        "identity_graph": 0,
        "profiles": 0,
    }
    assert duck.read("SELECT count(*) FROM martech_events.identity_graph") == [(0,)]
    assert duck.read("SELECT count(*) FROM martech_events.profiles") == [(0,)]
    assert duck.read("SELECT id FROM martech_events.hash_key") == [("deleted_users",)]
    client.force_login(admin)
    page = client.get(reverse("destinations:destination_detail", args=[destination.pk]))
    assert "A sandbox destination publishes no" in page.content.decode()


def test_a_model_excludes_erased_people_by_computing_the_hash_of_its_own_column_in_sql(
    client, admin, tool, web, duck
):
    # given: Ana and Bo in the warehouse; Ana asks to be erased
    destination = _destination(admin, tool, duck)
    _, raw = web
    send(
        client,
        raw,
        [
            _identify(1, "u-1", "v-1", "ana@acme.example"),
            _identify(2, "u-2", "v-2", "bo@acme.example"),
        ],
    )
    process_waiting()
    assert loader.load(destination).status == LoadStatus.LOADED
    request = erasure.request_create(
        actor=admin, identifier="email:ana@acme.example", channel="email", jurisdiction="gdpr"
    )
    erasure.request_verify(actor=admin, request=request, note="Replied from the address")

    # when: approved, then published (while the request is open its identifiers are known)
    erasure.request_approve(actor=admin, request=request)
    publish(destination)

    # then: deleted_users holds the hash of each of Ana's identifiers under the key, which
    # a model computes in SQL from its own columns, as they are written in a CRM
    key = _key(destination)
    expected = hashlib.sha256(f"{key}:email:ana@acme.example".encode()).hexdigest()
    hashes = duck.read("SELECT identifier_hash, identifier_type FROM martech_events.deleted_users")
    assert (expected, "email") in hashes
    assert {t for _, t in hashes} == {"email", "user_id", "anonymous_id"}
    duck.write(
        "CREATE TABLE crm_contacts AS SELECT * FROM (VALUES "
        "('c1', ' Ana@Acme.example'), ('c2', 'bo@acme.example')) AS t(id, email)"
    )
    kept = duck.read(
        "SELECT c.id FROM crm_contacts c CROSS JOIN martech_events.hash_key k "
        "WHERE NOT EXISTS (SELECT 1 FROM martech_events.deleted_users d WHERE "
        "d.identifier_hash = sha256(k.key || ':email:' || lower(trim(c.email))))"
    )
    assert kept == [("c2",)]
    suppressed_at = duck.read("SELECT min(suppressed_at) FROM martech_events.deleted_users")[0][0]
    request.refresh_from_db()
    assert suppressed_at == request.approved_at


def test_erased_people_stay_in_deleted_users_after_their_request_completed(
    client, admin, tool, web, duck
):
    # given: a request approved and completed while the destination publishes
    destination = _destination(admin, tool, duck)
    link_record(a=("user_id", "u-1"), b=("email", "ana@acme.example"), rule="identify")
    request = erasure.request_create(
        actor=admin, identifier="email:ana@acme.example", channel="email", jurisdiction="gdpr"
    )
    erasure.request_verify(actor=admin, request=request, note="ok")
    erasure.request_approve(actor=admin, request=request)
    publish(destination)
    for task in request.tasks.exclude(status=TaskStatus.DONE):
        erasure.task_not_applicable(actor=admin, task=task, reason="Checked by hand")
    request.refresh_from_db()
    assert request.status == "completed"

    # when: published again, the values gone from the console
    publication = publish(destination)

    # then
    assert publication.rows["deleted_users"] == 2
    assert duck.read("SELECT count(*) FROM martech_events.deleted_users") == [(2,)]
    assert publication.unpublishable == 0


def test_identifiers_erased_before_the_destination_existed_are_counted_not_published(
    admin, tool, duck
):
    link_record(a=("user_id", "u-1"), b=("email", "ana@acme.example"), rule="identify")
    request = erasure.request_create(
        actor=admin, identifier="user_id:u-1", channel="email", jurisdiction="gdpr"
    )
    erasure.request_verify(actor=admin, request=request, note="ok")
    erasure.request_approve(actor=admin, request=request)
    for task in request.tasks.all():
        erasure.task_not_applicable(actor=admin, task=task, reason="Checked by hand")
    destination = _destination(admin, tool, duck)

    publication = publish(destination)

    assert publication.rows["deleted_users"] == 0
    assert publication.unpublishable == 2
    assert not PublishedErasure.objects.exists()


def test_an_event_named_like_a_published_table_lands_beside_it(client, admin, tool, web, duck):
    destination = _destination(admin, tool, duck)
    _, raw = web
    send(client, raw, [{"type": "track", "event": "Profiles", "messageId": "m1", "userId": "u"}])
    process_waiting()

    assert loader.load(destination).status == LoadStatus.LOADED

    assert duck.read("SELECT id FROM martech_events.profiles_events") == [("m1",)]


def test_the_hash_key_is_shown_once_to_managers_and_never_audited(client, admin, tool, duck):
    destination = _destination(admin, tool, duck)
    viewer = person_with(admin, "destinations.view", name="Vic Viewer")
    manager = person_with(admin, "destinations.view", "destinations.manage", name="Max Manager")

    with pytest.raises(PermissionDeniedError):
        services.warehouse_key_show(actor=viewer, destination=destination)
    client.force_login(viewer)
    assert (
        client.post(reverse("api:destination-hash-key", args=[destination.pk])).status_code == 403
    )

    client.force_login(manager)
    page = client.post(reverse("destinations:destination_hash_key", args=[destination.pk]))
    assert page.status_code == 200
    key = _key(destination)
    assert key in page.content.decode()
    assert page["Cache-Control"] == "no-store"
    again = client.post(reverse("api:destination-hash-key", args=[destination.pk]))
    assert again.status_code == 409
    assert again.json()["code"] == "key_shown"
    assert key not in again.content.decode()
    with pytest.raises(ConflictError):
        services.warehouse_key_show(actor=admin, destination=destination)
    detail = client.get(reverse("destinations:destination_detail", args=[destination.pk]))
    assert key not in detail.content.decode()
    assert "Max Manager" in detail.content.decode()
    shown = AuditEvent.objects.get(action="destinations.destination.hash_key_shown")
    assert key not in str(shown.__dict__)


def test_the_api_shows_the_key_once_and_refuses_a_destination_that_is_not_a_warehouse(
    client, admin, tool, duck
):
    destination = _destination(admin, tool, duck)
    hook = services.destination_create(
        actor=admin,
        name="Hooks",
        adapter="webhook",
        tool=tool,
        config={"url": "https://hooks.acme.example/martech"},
    )
    client.force_login(admin)

    answer = client.post(reverse("api:destination-hash-key", args=[destination.pk]))
    refused = client.post(reverse("api:destination-hash-key", args=[hook.pk]))

    assert answer.status_code == 200
    assert answer.json() == {
        "key": _key(destination),
        "table": "martech_events.hash_key",
        "construction": "sha256(key || ':' || type || ':' || value), lower-case hex",
    }
    assert refused.status_code == 400
    assert refused.json()["code"] == "not_loaded"
