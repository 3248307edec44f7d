"""The command palette finds destinations, sources, syncs, schemas and erasure requests,
and offers actions that lead to the page that does them: the same checks, the same
confirmation, the same service and the same audit record as from that page."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from apps.access import services as svc
from apps.access.models import AccessAssignment, AccessRequestStatus
from apps.audit.models import AuditEvent
from apps.destinations.models import Delivery
from apps.destinations.services import destination_create
from apps.erasure import services as erasure
from apps.events.services import source_create
from apps.schemas.services import schema_create
from apps.syncs.models import SyncRun
from apps.syncs.services import model_create, sync_create, warehouse_create
from apps.tools.services import tool_create
from tests.factories import UserFactory, person_with

pytestmark = pytest.mark.django_db

OPS_CAPABILITIES = (
    "accounts.manage_access",
    "destinations.view",
    "destinations.replay",
    "syncs.view",
    "syncs.run",
    "events.view",
    "schemas.view",
    "erasure.view",
    "erasure.request",
)


@dataclass
class World:
    admin: object
    ops: object
    employee: object
    sandbox: object
    production: object
    sync: object
    source: object
    schema: object
    erasure_request: object
    role: object
    access_request: object


@pytest.fixture
def world(admin):
    tool = tool_create(actor=admin, name="Braze", vendor="Braze", category="Messaging")
    sandbox = destination_create(
        actor=admin,
        name="Hooks sandbox",
        adapter="webhook",
        tool=tool,
        environment="sandbox",
        config={"url": "https://hooks.acme.example/a"},
        credentials={"signing_secret": "s"},
    )
    production = destination_create(
        actor=admin,
        name="Hooks live",
        adapter="webhook",
        tool=tool,
        environment="production",
        config={"url": "https://hooks.acme.example/b"},
        credentials={"signing_secret": "s"},
    )
    for destination in (sandbox, production):
        Delivery.objects.create(
            destination=destination,
            message_id=f"m-{destination.pk}",
            event_name="Order",
            subject="anonymous_id:ajs-9",
            status="dead",
            attempts=1,
            response_code=400,
            error="400: bad field",
            payload={"kind": "event", "message": {"type": "track"}},
        )
    warehouse = warehouse_create(actor=admin, name="Console", kind="console")
    model = model_create(
        actor=admin,
        name="Ones",
        warehouse=warehouse,
        sql="SELECT 1 AS id, 'a' AS label",
        primary_key="id",
    )
    sync = sync_create(
        actor=admin,
        name="Ones to hooks",
        model=model,
        destination=sandbox,
        object="contacts",
        subject_column="label",
        subject_type="user_id",
        mappings=[{"from": "id", "to": "number"}],
    )
    source, _ = source_create(actor=admin, name="Web storefront")
    schema = schema_create(actor=admin, name="Order Completed", owner="Checkout team")
    erasure_request = erasure.request_create(
        actor=admin, identifier="email:ana@shop.example", channel="email", jurisdiction="gdpr"
    )
    ops = person_with(admin, *OPS_CAPABILITIES, name="Olga Ops")
    employee = UserFactory(full_name="Eli Employee")
    role = svc.role_create(actor=admin, name="Auditors", owner=admin)
    svc.role_capability_set(actor=admin, role=role, capability="audit.view", min_tenure_days=0)
    access_request = svc.access_request_create(
        requester=employee,
        capability="audit.view",
        justification="Quarterly review",
        duration_days=30,
    )
    return World(
        admin,
        ops,
        employee,
        sandbox,
        production,
        sync,
        source,
        schema,
        erasure_request,
        role,
        access_request,
    )


def _client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _results(client, query):
    response = client.get(reverse("palette"), {"q": query})
    assert response.status_code == 200
    return response.json()["results"]


def _actions(client, query):
    return [r for r in _results(client, query) if r["group"] == "Actions"]


def _titles(client, query, group=None):
    return [r["title"] for r in _results(client, query) if group is None or r["group"] == group]


def _audit(prefix: str) -> int:
    return AuditEvent.objects.filter(action__startswith=prefix).count()


def _confirm(client, url):
    """Open the action's link, then press its button: post the page's fields confirmed."""
    page = client.get(url)
    assert page.status_code == 200
    assert next(t.name for t in page.templates) == "confirm_page.html"
    fields = dict(parse_qsl(urlsplit(url).query))
    return page, client.post(urlsplit(url).path, {**fields, "confirmed": "1"})


# --- Objects ------------------------------------------------------------------------------


def test_palette_finds_destinations_sources_syncs_schemas_and_erasure_requests(world):
    ops = _client(world.ops)
    found = {
        "hooks sand": ("Destination", "destinations:destination_detail", world.sandbox),
        "storefront": ("Source", "events:source_detail", world.source),
        "ones to": ("Sync", "syncs:sync_detail", world.sync),
        "order compl": ("Event schema", "schemas:schema_detail", world.schema),
        world.erasure_request.reference.lower(): (
            "Erasure request",
            "erasure:request_detail",
            world.erasure_request,
        ),
    }
    for query, (kind, url_name, obj) in found.items():
        results = [r for r in _results(ops, query) if r["kind"] == kind]
        assert [r["url"] for r in results] == [reverse(url_name, args=[obj.pk])], query
        assert results[0]["group"] == "Go to"


def test_palette_finds_an_erasure_request_by_the_persons_email_not_by_a_stranger(world):
    ops = _client(world.ops)
    url = reverse("erasure:request_detail", args=[world.erasure_request.pk])
    assert url in [r["url"] for r in _results(ops, "Ana@Shop.example")]
    assert url not in [r["url"] for r in _results(ops, "bob@shop.example")]


def test_someone_without_the_capabilities_finds_none_of_those_objects(world):
    employee = _client(world.employee)
    for query in ("hooks", "storefront", "ones", "order", world.erasure_request.reference):
        kinds = {r["kind"] for r in _results(employee, query)}
        assert not kinds & {"Destination", "Source", "Sync", "Event schema", "Erasure request"}


# --- Which actions for whom ------------------------------------------------------------------


def test_each_verb_offers_its_actions_to_someone_who_may_do_them(world):
    ops = _client(world.ops)
    request = world.access_request
    assert _titles(ops, "replay", "Actions") == ["Replay dead letters: Hooks sandbox"]
    assert _titles(ops, "dry run ones", "Actions") == ["Start dry run: Ones to hooks"]
    assert _titles(ops, "approve", "Actions") == [
        f"Approve request #{request.pk} from Eli Employee: Read the audit log"
    ]
    assert _titles(ops, "reject eli", "Actions") == [
        f"Reject request #{request.pk} from Eli Employee: Read the audit log"
    ]
    assert _titles(ops, "grant auditors to eli", "Actions") == [
        "Grant role Auditors to Eli Employee"
    ]
    assert _titles(ops, "revoke olga", "Actions") == [], "nobody changes their own access"
    assert _titles(ops, "erase ana@shop.example", "Actions") == [
        "Open an erasure request for email:ana@shop.example"
    ]


def test_production_replays_are_offered_only_to_those_who_may_send_to_production(world):
    ops, admin = _client(world.ops), _client(world.admin)
    assert "Replay dead letters: Hooks live" not in _titles(ops, "replay hooks")
    assert _titles(admin, "replay hooks", "Actions") == [
        "Replay dead letters: Hooks live",
        "Replay dead letters: Hooks sandbox",
    ]
    live = _actions(admin, "replay live")[0]
    assert live["subtitle"] == "1 dead letter · Production"


def test_someone_with_no_role_is_offered_only_to_request_access(world):
    employee = _client(world.employee)
    for query in (
        "replay",
        "dry run",
        "approve",
        "reject",
        "grant auditors eli",
        "revoke",
        "erase ana@shop.example",
    ):
        assert _actions(employee, query) == [], query
    requests = _actions(employee, "request audit log")
    assert requests[0]["title"] == "Request capability: Read the audit log"
    assert requests[0]["url"] == reverse("access:request_create") + "?capability=audit.view"


def test_the_requester_is_not_offered_to_decide_their_own_request(world):
    assert _actions(_client(world.employee), "approve") == []


def test_actions_come_first_when_the_query_starts_with_a_verb_and_last_otherwise(world):
    ops = _client(world.ops)
    assert next(r["group"] for r in _results(ops, "replay")) == "Actions"
    groups = [r["group"] for r in _results(ops, "ana@shop.example")]
    assert groups[0] == "Go to"
    assert groups[-1] == "Actions"


def test_capabilities_are_offered_in_words_not_codes(world):
    titles = _titles(_client(world.employee), "request", "Actions")
    assert titles
    assert not any("." in t.split(": ", 1)[1] for t in titles)


# --- Following an action: the same confirmation, service and audit as its page -----------------


def test_start_dry_run_asks_then_queues_a_dry_run_with_its_audit_record(world):
    ops = _client(world.ops)
    url = _actions(ops, "dry run ones")[0]["url"]
    before = _audit("syncs.run.dry_run")
    page, done = _confirm(ops, url)
    assert "Start a dry run of Ones to hooks?" in page.content.decode()
    run = SyncRun.objects.get(sync=world.sync)
    assert run.dry_run
    assert run.requested_by == world.ops
    assert done.url == reverse("syncs:run_detail", args=[run.pk])
    assert _audit("syncs.run.dry_run") == before + 1


def test_opening_the_dry_run_link_changes_nothing(world):
    ops = _client(world.ops)
    assert ops.get(reverse("syncs:sync_dry_run", args=[world.sync.pk])).status_code == 200
    assert not SyncRun.objects.exists()


def test_replay_asks_with_the_count_and_environment_then_replays_with_its_audit_record(world):
    admin = _client(world.admin)
    url = _actions(admin, "replay sandbox")[0]["url"]
    page = admin.get(url)
    text = page.content.decode()
    assert "Replay 1 dead letter to Hooks sandbox?" in text
    assert "Sends 1 delivery again to Hooks sandbox." in text  # its name says where
    assert Delivery.objects.filter(destination=world.sandbox, status="dead").count() == 1
    _, done = _confirm(admin, url)
    assert done.status_code == 302
    assert not Delivery.objects.filter(destination=world.sandbox, status="dead").exists()
    assert Delivery.objects.filter(destination=world.production, status="dead").count() == 1
    assert _audit("destinations.delivery.replayed") == 1


def test_replay_to_production_is_final_and_named_on_its_confirmation(world):
    page = _client(world.admin).get(_actions(_client(world.admin), "replay live")[0]["url"])
    text = page.content.decode()
    assert "Replay 1 dead letter to Hooks live?" in text
    assert "(production)" in text
    assert 'data-testid="final"' in text


def test_approve_asks_then_approves_with_its_audit_record(world):
    ops = _client(world.ops)
    url = _actions(ops, "approve")[0]["url"]
    page, _done = _confirm(ops, url)
    assert f"Approve request #{world.access_request.pk} from Eli Employee?" in (
        page.content.decode()
    )
    world.access_request.refresh_from_db()
    assert world.access_request.status == AccessRequestStatus.APPROVED
    assert world.access_request.decided_by == world.ops
    assert _audit("accounts.access_request.approved") == 1


def test_reject_asks_then_rejects(world):
    ops = _client(world.ops)
    _confirm(ops, _actions(ops, "reject")[0]["url"])
    world.access_request.refresh_from_db()
    assert world.access_request.status == AccessRequestStatus.REJECTED
    assert _audit("accounts.access_request.rejected") == 1


def test_grant_asks_naming_the_capabilities_then_assigns_with_its_audit_record(world):
    ops = _client(world.ops)
    url = _actions(ops, "grant auditors to eli")[0]["url"]
    before = _audit("accounts.assignment.created")
    page, _ = _confirm(ops, url)
    text = page.content.decode()
    assert "Grant Auditors to Eli Employee?" in text
    assert "Read the audit log" in text
    assert AccessAssignment.objects.filter(
        user=world.employee, role=world.role, ended_at__isnull=True
    ).exists()
    assert _audit("accounts.assignment.created") == before + 1


def test_revoke_asks_then_removes_with_its_audit_record(world):
    svc.role_assign(actor=world.admin, user=world.employee, role=world.role)
    ops = _client(world.ops)
    url = _actions(ops, "revoke auditors from eli")[0]["url"]
    before = _audit("accounts.assignment.ended")
    page, _ = _confirm(ops, url)
    assert "Remove Auditors from Eli Employee?" in page.content.decode()
    assert not AccessAssignment.objects.filter(
        user=world.employee, role=world.role, ended_at__isnull=True
    ).exists()
    assert _audit("accounts.assignment.ended") == before + 1


def test_request_and_erasure_actions_open_their_forms_prefilled(world):
    employee, ops = _client(world.employee), _client(world.ops)
    form = employee.get(_actions(employee, "request audit log")[0]["url"]).context["form"]
    assert form.initial["capability"] == "audit.view"
    role = next(a for a in _actions(employee, "request auditors") if "role" in a["title"])
    assert employee.get(role["url"]).context["form"].initial["role"] == str(world.role.pk)
    url = _actions(ops, "erase bob@shop.example")[0]["url"]
    assert ops.get(url).context["form"].initial["identifier"] == "email:bob@shop.example"


# --- Forced by URL: the action's own answer, as today ----------------------------------------


def test_action_links_forced_by_someone_who_may_not_act_answer_403_or_404(world):
    employee = _client(world.employee)
    sync, request = world.sync, world.access_request
    assert employee.get(reverse("syncs:sync_dry_run", args=[sync.pk])).status_code == 404
    assert employee.get(_replay_url(world.sandbox)).status_code == 403
    assert employee.get(reverse("access:request_approve", args=[request.pk])).status_code == 403
    grant = reverse("access:user_assign_role", args=[world.ops.pk])
    assert employee.get(grant, {"role": world.role.pk}).status_code == 403
    assert _client(world.ops).get(_replay_url(world.production)).status_code == 403
    assert not SyncRun.objects.exists()
    assert Delivery.objects.filter(status="dead").count() == 2


def test_actions_no_link_leads_to_still_refuse_a_get(world):
    ops = _client(world.ops)
    assert ops.get(reverse("syncs:sync_run", args=[world.sync.pk])).status_code == 405
    assert not SyncRun.objects.exists()


def _replay_url(destination) -> str:
    return f"{reverse('destinations:replay')}?everything=1&destination={destination.pk}"


def test_an_identifier_keeps_its_case_on_its_way_to_the_erasure_form(world):
    ops = _client(world.ops)
    action = _actions(ops, "Erase user_id:Cus_8Kq2")[0]
    assert action["title"] == "Open an erasure request for user_id:Cus_8Kq2"
    assert ops.get(action["url"]).context["form"].initial["identifier"] == "user_id:Cus_8Kq2"
