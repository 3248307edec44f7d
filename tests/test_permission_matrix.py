"""Every URL of the UI and the API, visited by a person of each kind, answers as it should.

URLs are discovered from the URL resolver: a new URL without an entry here fails the
suite. Personas: anonymous; an employee with no role; two holders of the Access
Administrators role, whose capabilities need 90 days of tenure, one at 89 days and one
at 90 (the clock is frozen); and a superuser. ``login`` means a redirect to sign-in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from apps.access import services as svc
from apps.access.models import Grant
from apps.accounts.services import api_token_create
from apps.audit.services import audit_record
from apps.consent.defaults import ensure_default_purposes
from apps.consent.models import Purpose
from apps.identity import services as identity
from apps.identity.models import Merge
from apps.identity.normalise import Ident
from apps.identity.selectors import profile_resolve
from apps.tools.services import tool_create
from tests.factories import PASSWORD, AdminFactory, UserFactory

FROZEN = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
TODAY = FROZEN.date()
PERSONAS = ("anonymous", "employee", "below", "above", "superuser")


def _visiting() -> tuple[str, ...]:
    """On SQLite (the embedded default's second leg) every URL is visited by the two people
    at either end, someone with no role and a superuser: what differs between databases is
    whether a page works, which the tenure boundary does not change."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return ("employee", "superuser")
    return PERSONAS


def _discover(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _discover(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def url_names() -> set[str]:
    return set(_discover(get_resolver().url_patterns))


# --- The world every case runs in ---------------------------------------------------------


@dataclass(frozen=True)
class Lazy:
    """An object built on first use (in the frozen world), for objects few cases need."""

    build: Any  # world -> object


@dataclass
class World:
    people: dict[str, Any]
    tokens: dict[str, str]
    objects: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name):
        if name not in self.objects:
            raise AttributeError(name)
        value = self.objects[name]
        if isinstance(value, Lazy):
            with time_machine.travel(FROZEN, tick=False):
                value = self.objects[name] = value.build(self)
        return value


@pytest.fixture
def world(db):
    ensure_default_purposes()
    with time_machine.travel(FROZEN, tick=False):
        su = AdminFactory(full_name="Sasha Super", start_date=TODAY - dt.timedelta(days=2000))
        employee = UserFactory(full_name="Eli Employee", start_date=TODAY - dt.timedelta(days=400))
        below = UserFactory(full_name="Bea Below", start_date=TODAY - dt.timedelta(days=89))
        above = UserFactory(full_name="Abe Above", start_date=TODAY - dt.timedelta(days=90))
        other = UserFactory(full_name="Olu Other", team="Brand")
        admins = svc.role_create(actor=su, name="Access Administrators", owner=su)
        for code in (
            "accounts.manage_access",
            "accounts.view_access",
            "audit.view",
            "tools.view",
            "tools.manage",
            "intake.submit",
            "intake.decide",
            "identity.view",
            "identity.manage",
            "consent.view",
            "consent.record",
            "consent.manage_purposes",
            "schemas.view",
            "schemas.edit",
            "schemas.publish",
            "events.view",
            "events.manage_sources",
            "events.replay",
            "destinations.view",
            "destinations.manage",
            "destinations.replay",
            "destinations.send_production",
            "syncs.view",
            "syncs.manage",
            "syncs.run",
            "syncs.run_production",
            "erasure.view",
            "erasure.request",
            "erasure.approve",
        ):
            svc.role_capability_set(actor=su, role=admins, capability=code, min_tenure_days=90)
        svc.role_assign(actor=su, user=below, role=admins)
        svc.role_assign(actor=su, user=above, role=admins)
        role = svc.role_create(actor=su, name="Brand Analyst", owner=su)
        rule = svc.role_capability_set(actor=su, role=role, capability="audit.view")
        birthright = svc.birthright_rule_add(actor=su, role=role, team="Brand")
        spare = svc.role_create(actor=su, name="Spare", owner=su)
        unused = svc.role_create(actor=su, name="Unused", owner=su)
        training = svc.training_create(actor=su, name="Production sends", validity_days=180)
        completion = svc.training_completion_record(
            actor=su, user=other, training=training, completed_on=TODAY - dt.timedelta(days=3)
        )
        assignment = svc.role_assign(actor=su, user=other, role=spare)
        grant = Grant.objects.filter(user=other, revoked_at__isnull=True).first()
        request_other = svc.access_request_create(
            requester=other, capability="accounts.view_access", justification="x", duration_days=5
        )
        request_employee = svc.access_request_create(
            requester=employee, role=role, justification="Brand reporting", duration_days=5
        )
        campaign = svc.review_campaign_create(
            actor=su,
            name="Brand review",
            roles=[role],
            deadline=FROZEN + dt.timedelta(days=7),
            unreviewed_policy="keep",
        )
        event = audit_record(action="tests.thing.created")
        tool = tool_create(
            actor=su,
            name="Braze",
            vendor="Braze",
            category="Messaging",
            capabilities=["email_lifecycle"],
        )
        tokens = {}
        people = {"employee": employee, "below": below, "above": above, "superuser": su}
        for persona, person in people.items():
            tokens[persona] = api_token_create(user=person, name="matrix", days=30)[1]
        employee_token = api_token_create(user=employee, name="to revoke", days=30)[0]
    assert grant is not None
    return World(
        people={**people, "other": other},
        tokens=tokens,
        objects={
            "role": role,
            "rule": rule,
            "birthright": birthright,
            "spare": spare,
            "unused": unused,
            "training": training,
            "completion": completion,
            "assignment": assignment,
            "grant": grant,
            "request_other": request_other,
            "request_employee": request_employee,
            "campaign": campaign,
            "item": campaign.items.get(),
            "event": event,
            "tool": tool,
            "employee_token": employee_token,
            **INTAKE_OBJECTS,
            **GRAPH_OBJECTS,
            **SCHEMA_OBJECTS,
        },
    )


# --- Intake requests, built only by the cases that need them ----------------------------------


def _intake(stage: str):
    """A request by the superuser walked up to ``stage``, with Abe Above as the approver."""

    def build(w: World):
        from apps.intake import services as intake

        su, above = w.people["superuser"], w.people["above"]
        req = intake.intake_create(
            actor=su,
            title=f"Request at {stage}",
            problem_statement="Leads wait two days.",
            who_suffers="Sales.",
            cost_hours_per_month=8,
            evidence="Tickets.",
        )
        if stage == "problem":
            return req
        req = intake.intake_advance(actor=su, request=req)
        intake.stakeholder_add(actor=su, request=req, person=above, part="approver")
        intake.stakeholder_add(actor=su, request=req, person=w.people["other"], part="informed")
        if stage == "people":
            return req
        req = intake.intake_advance(actor=su, request=req)
        req = intake.intake_update(
            actor=su, request=req, approach="buy", proposed_capabilities=["crm"]
        )
        for name in ("OneSignal", "Airship"):
            intake.candidate_add(actor=su, request=req, name=name, vendor=name)
        if stage == "system":
            return req
        req = intake.intake_advance(actor=su, request=req)
        if stage == "deferred":
            return intake.intake_defer(
                actor=above, request=req, revisit_on=TODAY + dt.timedelta(days=30), comment="Q3"
            )
        if stage == "approved":
            intake.intake_vote(actor=above, request=req, verdict="approve", comment="Yes")
        return req

    return Lazy(build)


INTAKE_OBJECTS = {
    "intake_problem": _intake("problem"),
    "intake_people": _intake("people"),
    "intake_system": _intake("system"),
    "intake_decision": _intake("decision"),
    "intake_deferred": _intake("deferred"),
    "intake_approved": _intake("approved"),
    "intake_stakeholder": Lazy(lambda w: w.intake_people.stakeholders.get(part="informed")),
    "intake_candidate": Lazy(lambda w: w.intake_system.candidates.get(name="Airship")),
    "intake_task": Lazy(lambda w: w.intake_approved.onboarding_tasks.first()),
}


def _graph(w: World):
    """Profile A (anonymous id + email, merged), profile B, and a link waiting for review."""
    identity.identifier_observe(("email", "mei@example.com"))
    identity.link_record(a=("anonymous_id", "a-1"), b=("email", "mei@example.com"), rule="identify")
    identity.identifier_observe(("anonymous_id", "b-1"))
    pending = identity.link_record(
        a=("anonymous_id", "a-1"),
        b=("anonymous_id", "w-1"),
        rule="ip_user_agent",
        kind="probabilistic",
        confidence=0.7,
    )
    return {
        "a": profile_resolve(Ident("anonymous_id", "a-1")),
        "b": profile_resolve(Ident("anonymous_id", "b-1")),
        "merge": Merge.objects.get(),
        "pending": pending,
    }


GRAPH_OBJECTS = {
    "graph": Lazy(_graph),
    "profile": Lazy(lambda w: w.graph["a"]),
    "profile_b": Lazy(lambda w: w.graph["b"]),
    "merge": Lazy(lambda w: w.graph["merge"]),
    "pending_link": Lazy(lambda w: w.graph["pending"]),
    "purpose": Lazy(lambda w: Purpose.objects.get(code="analytics")),
}


def _registry(w: World) -> dict:
    """Two events (one published with a draft in progress, one published only), a plan, drift."""
    from apps.schemas import services as schemas
    from apps.schemas.engine.validate import compiled_plan, gate

    su = w.people["superuser"]
    doc = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}
    order = schemas.schema_create(
        actor=su, name="Order Completed", json_schema=doc, fields={"total": {"purpose": "revenue"}}
    )
    published = schemas.version_publish(actor=su, version=order.versions.get())
    draft = schemas.draft_create(actor=su, schema=order)
    signup = schemas.schema_create(
        actor=su, name="Signed Up", json_schema={"type": "object", "properties": {}}
    )
    schemas.version_publish(actor=su, version=signup.versions.get())
    plan = schemas.plan_create(actor=su, name="Web", versions=[published])
    verdict = gate(compiled_plan(plan), "allow", "Order Completed", {"total": 1, "coupon": "X"})
    violation = schemas.findings_record(
        source="web",
        event_name="Order Completed",
        findings=verdict.findings,
        properties={"total": 1, "coupon": "X"},
        plan=plan,
    )[0]
    from apps.schemas.models import Observation

    return {
        "schema": order,
        "draft": draft,
        "published": published,
        "signup": signup,
        "plan": plan,
        "violation": violation,
        "observation": Observation.objects.get(),
    }


def _version(attr):
    return lambda w: {"pk": w.registry["schema"].pk, "version_pk": w.registry[attr].pk}


def _api_version(attr):
    return lambda w: {"schema_pk": w.registry["schema"].pk, "pk": w.registry[attr].pk}


def _bundle(w: World) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.schemas.engine.bundle import export_plan

    data = export_plan(w.registry["plan"])
    return {"file": SimpleUploadedFile("plan.zip", data, "application/zip"), "name": "Imported"}


def _source(w: World):
    from apps.events.services import source_create

    source, _ = source_create(actor=w.people["superuser"], name="Web storefront")
    return source


def _quarantined(w: World):
    from django.utils import timezone

    from apps.events.models import Event

    return Event.objects.create(
        source=w.source,
        message_id="m-1",
        type="track",
        name="Cart Abandoned",
        anonymous_id="ajs-1",
        payload={"event": "Cart Abandoned"},
        timestamp=timezone.now(),
        status="quarantined",
        violations=[{"kind": "unplanned_event"}],
    )


def _destination(w: World):
    from apps.destinations.services import destination_create

    return destination_create(
        actor=w.people["superuser"],
        name="Hooks",
        adapter="webhook",
        tool=w.tool,
        config={"url": "https://hooks.acme.example/martech"},
        credentials={"signing_secret": "s3cret"},
    )


def _loaded_destination(w: World):
    from apps.destinations.services import destination_create
    from apps.syncs.services import warehouse_create

    warehouse = warehouse_create(
        actor=w.people["superuser"],
        name="Analytics",
        kind="postgres",
        dsn="postgresql://loader@127.0.0.1:5432/analytics",
    )
    return destination_create(
        actor=w.people["superuser"],
        name="Event warehouse",
        adapter="warehouse",
        tool=w.tool,
        config={"warehouse": str(warehouse.pk)},
        is_enabled=True,
    )


def _dead_letter(w: World):
    from apps.destinations.models import Delivery

    return Delivery.objects.create(
        destination=w.destination,
        message_id="m-9",
        event_name="Order Completed",
        subject="anonymous_id:ajs-9",
        status="dead",
        attempts=1,
        response_code=400,
        error="400: bad field",
        payload={"kind": "event", "message": {"type": "track"}},
    )


def _warehouse(w: World):
    from apps.syncs.services import warehouse_create

    return warehouse_create(actor=w.people["superuser"], name="Console", kind="console")


DBT_MANIFEST = {
    "metadata": {"dbt_schema_version": "v12"},
    "nodes": {
        "model.p.events": {
            "resource_type": "model",
            "name": "events",
            "schema": "activation",
            "alias": "events",
        }
    },
}


def _dbt_warehouse(w: World):
    from apps.syncs.services import dbt_manifest_import

    dbt_manifest_import(actor=w.people["superuser"], warehouse=w.warehouse, manifest=DBT_MANIFEST)
    return w.warehouse


def _model(w: World):
    from apps.syncs.services import model_create

    return model_create(
        actor=w.people["superuser"],
        name="Ones",
        warehouse=w.warehouse,
        sql="SELECT 1 AS id, 'a' AS label",
        primary_key="id",
    )


def _sync(w: World):
    from apps.syncs.services import sync_create

    return sync_create(
        actor=w.people["superuser"],
        name="Ones to hooks",
        model=w.model,
        destination=w.destination,
        object="contacts",
        subject_column="label",
        subject_type="user_id",
        mappings=[{"from": "id", "to": "number"}],
    )


def _held_run(w: World):
    from apps.syncs.models import SyncRun

    return SyncRun.objects.create(
        sync=w.sync,
        status="approval",
        mode="upsert",
        total=1,
        planned={"added": 1},
        approval_reason="it is the sync's first run",
    )


def _erasure(verified: bool):
    def make(w: World):
        from apps.erasure import services

        request = services.request_create(
            actor=w.people["superuser"],
            identifier=f"email:{'v' if verified else 'r'}@x.example",
            channel="email",
            jurisdiction="gdpr",
        )
        if verified:
            request = services.request_verify(actor=w.people["superuser"], request=request)
        return request

    return make


def _erasure_task(status: str):
    def make(w: World):
        from apps.erasure.models import ErasureTask

        return ErasureTask.objects.create(
            request=w.erasure_verified,
            kind="manual" if status == "manual" else "api",
            name=f"Tool {status}",
            status=status,
            tool=w.tool,
        )

    return make


def _erasure_maybe(w: World):
    from apps.erasure.models import ErasureIdentifier

    return ErasureIdentifier.objects.create(
        request=w.erasure_verified,
        type="anonymous_id",
        value_hash="0" * 64,
        masked="aj***01",
        origin="probabilistic",
        decision="pending",
    )


SCHEMA_OBJECTS = {
    "erasure_maybe": Lazy(_erasure_maybe),
    "erasure_received": Lazy(_erasure(False)),
    "erasure_verified": Lazy(_erasure(True)),
    "erasure_manual": Lazy(_erasure_task("manual")),
    "erasure_failed": Lazy(_erasure_task("failed")),
    "warehouse": Lazy(_warehouse),
    "dbt_warehouse": Lazy(_dbt_warehouse),
    "sync": Lazy(_sync),
    "held_run": Lazy(_held_run),
    "model": Lazy(_model),
    "destination": Lazy(_destination),
    "loaded_destination": Lazy(_loaded_destination),
    "dead_letter": Lazy(_dead_letter),
    "registry": Lazy(_registry),
    "quarantined": Lazy(_quarantined),
    "source": Lazy(_source),
    "write_key": Lazy(lambda w: w.source.write_keys.get()),
}


# --- Expectations ------------------------------------------------------------------------------

LOGIN = "login"


def expect(anonymous, employee, below, above, superuser):
    return dict(zip(PERSONAS, (anonymous, employee, below, above, superuser), strict=True))


UI_ALL = expect(LOGIN, 200, 200, 200, 200)
UI_MANAGE = expect(LOGIN, 403, 403, 200, 200)
UI_MANAGE_POST = expect(LOGIN, 403, 403, 302, 302)
UI_HIDDEN_POST = expect(LOGIN, 404, 404, 302, 302)
# A link to an action (the command palette's) shows its question: changing nothing.
UI_HIDDEN_ASK = expect(LOGIN, 404, 404, 200, 200)
API_ALL = expect(401, 200, 200, 200, 200)
API_MANAGE = expect(401, 403, 403, 200, 200)
API_MANAGE_CREATE = expect(401, 403, 403, 201, 201)
API_MANAGE_DELETE = expect(401, 403, 403, 204, 204)
API_HIDDEN = expect(401, 404, 404, 200, 200)
API_HIDDEN_DELETE = expect(401, 404, 404, 204, 204)
PUBLIC = expect(200, 200, 200, 200, 200)
API_HIDDEN_CREATE = expect(401, 404, 404, 201, 201)
API_HIDDEN_ACCEPTED = expect(401, 404, 404, 202, 202)
# Intake decisions: the superuser requested, so only the approver (Abe Above) may decide.
UI_APPROVER_POST = expect(LOGIN, 404, 404, 302, 403)
API_APPROVER = expect(401, 404, 404, 200, 403)
INTAKE_DETAIL = expect(LOGIN, 404, 404, 200, 200)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    expected: dict
    kwargs: Any = None  # world -> URL kwargs
    data: Any = None  # world -> request body


def _pk(attr):
    return lambda w: {"pk": getattr(w, attr).pk}


def _other(w):
    return {"pk": w.people["other"].pk}


CASES = [
    # Shell, probes and documentation
    Case("dashboard", "get", UI_ALL),
    Case("palette", "get", expect(401, 200, 200, 200, 200)),
    Case("healthz", "get", PUBLIC),
    Case("readyz", "get", PUBLIC),
    Case("api-schema", "get", PUBLIC),
    Case("api-docs", "get", PUBLIC),
    # Sign-in and the person's own account
    Case("accounts:login", "get", expect(200, 302, 302, 302, 302)),
    # Single sign-on answers only where it is configured (tests/accounts/test_sso.py).
    Case("accounts:sso_start", "get", expect(404, 404, 404, 404, 404)),
    Case("accounts:sso_callback", "get", expect(404, 404, 404, 404, 404)),
    Case("accounts:logout", "post", expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)),
    Case("accounts:password_change", "get", UI_ALL),
    Case("accounts:token_list", "get", UI_ALL),
    # Two-step sign-in: nobody here has a second factor (so there is no code to ask for)
    Case("accounts:login_code", "get", expect(LOGIN, 302, 302, 302, 302)),
    Case("accounts:mfa", "get", UI_ALL),
    Case("accounts:mfa_setup", "get", UI_ALL),
    Case(
        "accounts:mfa_recovery_codes",
        "post",
        expect(LOGIN, 409, 409, 409, 409),
        data=lambda w: {"regenerate-code": "123456"},
    ),
    Case(
        "accounts:mfa_remove",
        "post",
        expect(LOGIN, 409, 409, 409, 409),
        data=lambda w: {"remove-code": "123456"},
    ),
    Case("accounts:token_revoke", "post", expect(LOGIN, 302, 404, 404, 404), _pk("employee_token")),
    Case("access:my_access", "get", UI_ALL),
    Case("accounts:notification_list", "get", UI_ALL),
    Case("accounts:notifications_read_all", "post", expect(LOGIN, 302, 302, 302, 302)),
    # People
    Case("accounts:user_list", "get", UI_ALL),
    Case("accounts:user_detail", "get", UI_ALL, _other),
    Case("accounts:user_create", "get", UI_MANAGE),
    Case("accounts:user_edit", "get", UI_MANAGE, _other),
    Case("accounts:user_active", "post", UI_MANAGE_POST, _other, lambda w: {"active": "false"}),
    Case(
        "access:user_assign_role",
        "post",
        UI_MANAGE_POST,
        _other,
        lambda w: {"role": w.role.pk},
    ),
    Case("access:user_assign_role", "get", UI_MANAGE, _other, lambda w: {"role": w.role.pk}),
    Case(
        "access:user_completion",
        "post",
        UI_MANAGE_POST,
        _other,
        lambda w: {"training": w.training.pk, "completed_on": TODAY.isoformat()},
    ),
    Case("access:assignment_remove", "post", UI_HIDDEN_POST, _pk("assignment")),
    Case("access:assignment_remove", "get", UI_HIDDEN_ASK, _pk("assignment")),
    Case("access:completion_delete", "post", UI_HIDDEN_POST, _pk("completion")),
    # Roles and trainings
    Case("access:role_list", "get", UI_ALL),
    Case("access:role_detail", "get", UI_ALL, _pk("role")),
    Case("access:role_create", "get", UI_MANAGE),
    Case("access:role_edit", "get", UI_MANAGE, _pk("role")),
    Case("access:role_delete", "post", UI_MANAGE_POST, _pk("unused")),
    Case(
        "access:role_capability_set",
        "post",
        UI_MANAGE_POST,
        _pk("role"),
        lambda w: {"capability": "accounts.view_access", "min_tenure_days": 30},
    ),
    Case("access:role_capability_remove", "post", UI_MANAGE_POST, _pk("rule")),
    Case(
        "access:birthright_add", "post", UI_MANAGE_POST, _pk("role"), lambda w: {"team": "Growth"}
    ),
    Case("access:birthright_remove", "post", UI_MANAGE_POST, _pk("birthright")),
    Case("access:training_list", "get", UI_ALL),
    Case("access:training_detail", "get", UI_ALL, _pk("training")),
    Case("access:training_create", "get", UI_MANAGE),
    Case("access:training_edit", "get", UI_MANAGE, _pk("training")),
    # Requests: the requester sees theirs; only the role owner (here the superuser) decides
    Case("access:request_list", "get", UI_ALL),
    Case("access:request_create", "get", UI_ALL),
    Case("access:request_detail", "get", expect(LOGIN, 404, 404, 200, 200), _pk("request_other")),
    Case(
        "access:request_approve",
        "post",
        expect(LOGIN, 403, 404, 403, 302),
        _pk("request_employee"),
    ),
    Case(
        "access:request_reject",
        "post",
        expect(LOGIN, 403, 404, 403, 302),
        _pk("request_employee"),
    ),
    Case(
        "access:request_approve",
        "get",
        expect(LOGIN, 403, 404, 403, 200),
        _pk("request_employee"),
    ),
    Case(
        "access:request_reject",
        "get",
        expect(LOGIN, 403, 404, 403, 200),
        _pk("request_employee"),
    ),
    Case(
        "access:request_cancel",
        "post",
        expect(LOGIN, 302, 404, 403, 403),
        _pk("request_employee"),
    ),
    # Reviews: access managers see all; reviewers their items; others nothing
    Case("access:review_list", "get", UI_ALL),
    Case("access:review_create", "get", UI_MANAGE),
    Case("access:review_detail", "get", expect(LOGIN, 404, 404, 200, 200), _pk("campaign")),
    Case("access:review_close", "post", UI_HIDDEN_POST, _pk("campaign")),
    Case(
        "access:review_item_decide",
        "post",
        UI_HIDDEN_POST,
        _pk("item"),
        lambda w: {"decision": "keep"},
    ),
    # Audit log: audit.view, which the role gives from 90 days of tenure
    Case("audit:event_list", "get", UI_MANAGE),
    Case("audit:event_detail", "get", INTAKE_DETAIL, _pk("event")),
    Case("audit:event_export", "get", UI_MANAGE),
    # Tool registry: tools.view to read, tools.manage to change
    Case("tools:tool_list", "get", UI_MANAGE),
    Case("tools:tool_detail", "get", INTAKE_DETAIL, _pk("tool")),
    Case("tools:redundancy", "get", UI_MANAGE),
    Case("tools:tool_create", "get", UI_MANAGE),
    Case("tools:tool_edit", "get", INTAKE_DETAIL, _pk("tool")),
    Case("tools:tool_export", "get", UI_MANAGE),
    Case("tools:renewals", "get", UI_MANAGE),
    Case("tools:advisor", "get", UI_MANAGE),
    Case("tools:tool_import", "get", UI_MANAGE),
    # PPS intake: deciders (and the requester) see and move a request; approvers decide it
    Case("intake:board", "get", UI_ALL),
    Case("intake:request_list", "get", UI_ALL),
    Case("intake:request_create", "get", UI_MANAGE),
    Case("intake:request_detail", "get", INTAKE_DETAIL, _pk("intake_problem")),
    Case("intake:problem_edit", "get", INTAKE_DETAIL, _pk("intake_problem")),
    Case("intake:system_edit", "get", INTAKE_DETAIL, _pk("intake_system")),
    Case("intake:advance", "post", UI_HIDDEN_POST, _pk("intake_problem")),
    Case(
        "intake:withdraw", "post", UI_HIDDEN_POST, _pk("intake_problem"), lambda w: {"note": "Dup"}
    ),
    Case(
        "intake:approve",
        "post",
        UI_APPROVER_POST,
        _pk("intake_decision"),
        lambda w: {"comment": "Yes"},
    ),
    Case(
        "intake:reject",
        "post",
        UI_APPROVER_POST,
        _pk("intake_decision"),
        lambda w: {"comment": "No"},
    ),
    Case(
        "intake:defer",
        "post",
        UI_APPROVER_POST,
        _pk("intake_decision"),
        lambda w: {"revisit_on": (TODAY + dt.timedelta(days=20)).isoformat(), "comment": "Q3"},
    ),
    Case("intake:reopen", "post", UI_HIDDEN_POST, _pk("intake_deferred")),
    Case(
        "intake:stakeholder_add",
        "post",
        UI_HIDDEN_POST,
        _pk("intake_people"),
        lambda w: {"person": w.people["employee"].pk, "part": "consulted"},
    ),
    Case("intake:stakeholder_remove", "post", UI_HIDDEN_POST, _pk("intake_stakeholder")),
    Case(
        "intake:candidate_add",
        "post",
        UI_HIDDEN_POST,
        _pk("intake_system"),
        lambda w: {"name": "Pushwoosh", "currency": "USD"},
    ),
    Case("intake:candidate_prefer", "post", UI_HIDDEN_POST, _pk("intake_candidate")),
    Case("intake:candidate_remove", "post", UI_HIDDEN_POST, _pk("intake_candidate")),
    Case("intake:task_set", "post", UI_HIDDEN_POST, _pk("intake_task"), lambda w: {"done": "true"}),
    # Identity graph and consent: identity.* and consent.*, from 90 days in the role
    Case("identity:profile_list", "get", UI_MANAGE),
    Case("identity:review_queue", "get", UI_MANAGE),
    Case("identity:profile_detail", "get", INTAKE_DETAIL, _pk("profile")),
    Case(
        "identity:profile_merge",
        "post",
        UI_HIDDEN_POST,
        _pk("profile"),
        lambda w: {"other": w.profile_b.pk},
    ),
    Case("identity:merge_undo", "post", UI_HIDDEN_POST, _pk("merge")),
    Case("identity:link_confirm", "post", UI_HIDDEN_POST, _pk("pending_link")),
    Case("identity:link_reject", "post", UI_HIDDEN_POST, _pk("pending_link")),
    Case("consent:lookup", "get", UI_MANAGE),
    Case(
        "consent:record",
        "post",
        UI_MANAGE_POST,
        None,
        lambda w: {
            "identifier": "email:mei@example.com",
            "purpose": "analytics",
            "granted": "true",
            "jurisdiction": "gdpr",
        },
    ),
    Case("consent:purpose_list", "get", UI_MANAGE),
    Case("consent:purpose_create", "get", UI_MANAGE),
    Case("consent:purpose_edit", "get", INTAKE_DETAIL, _pk("purpose")),
    # Schema registry: schemas.*, from 90 days in the role
    Case("schemas:schema_list", "get", UI_MANAGE),
    Case("schemas:schema_create", "get", UI_MANAGE),
    Case("schemas:schema_detail", "get", INTAKE_DETAIL, lambda w: {"pk": w.registry["schema"].pk}),
    Case("schemas:schema_edit", "get", INTAKE_DETAIL, lambda w: {"pk": w.registry["schema"].pk}),
    Case("schemas:draft_create", "post", UI_HIDDEN_POST, lambda w: {"pk": w.registry["signup"].pk}),
    Case("schemas:version_detail", "get", INTAKE_DETAIL, _version("draft")),
    Case("schemas:version_edit", "get", INTAKE_DETAIL, _version("draft")),
    Case("schemas:version_publish", "post", UI_HIDDEN_POST, _version("draft")),
    Case("schemas:version_deprecate", "post", UI_HIDDEN_POST, _version("published")),
    Case("schemas:version_discard", "post", UI_HIDDEN_POST, _version("draft")),
    Case("schemas:plan_list", "get", UI_MANAGE),
    Case("schemas:plan_create", "get", UI_MANAGE),
    Case("schemas:plan_import", "post", UI_MANAGE_POST, None, _bundle),
    Case("schemas:plan_detail", "get", INTAKE_DETAIL, lambda w: {"pk": w.registry["plan"].pk}),
    Case("schemas:plan_edit", "get", INTAKE_DETAIL, lambda w: {"pk": w.registry["plan"].pk}),
    Case("schemas:plan_export", "get", INTAKE_DETAIL, lambda w: {"pk": w.registry["plan"].pk}),
    Case("schemas:violations", "get", UI_MANAGE),
    Case(
        "schemas:observation_draft",
        "post",
        UI_HIDDEN_POST,
        lambda w: {"pk": w.registry["observation"].pk},
    ),
    # The collection API authenticates by write key, never by session: a form post is no
    # JSON, so every persona gets the same 400.
    *[
        Case(f"collect:{kind}", "post", expect(400, 400, 400, 400, 400))
        for kind in ("batch", "consent", "track", "identify", "page", "screen", "group", "alias")
    ],
    Case("collect:snowplow-tp2", "post", expect(400, 400, 400, 400, 400)),
    Case("collect:snowplow-pixel", "get", expect(401, 401, 401, 401, 401)),
    # The SCIM service authenticates by a provisioning token, never by session.
    Case("scim:root", "get", expect(401, 401, 401, 401, 401)),
    Case("scim:scim", "get", expect(401, 401, 401, 401, 401), lambda w: {"path": "Users"}),
    # Sources: events.*, from 90 days in the role
    Case("events:source_list", "get", UI_MANAGE),
    Case("events:source_create", "get", UI_MANAGE),
    Case("events:source_detail", "get", INTAKE_DETAIL, _pk("source")),
    Case("events:source_edit", "get", INTAKE_DETAIL, _pk("source")),
    Case("events:key_shown", "get", INTAKE_DETAIL, _pk("source")),
    Case(
        "events:key_rotate",
        "post",
        expect(LOGIN, 404, 404, 302, 302),
        _pk("source"),
        lambda w: {"overlap_hours": 1},
    ),
    Case(
        "events:key_revoke",
        "post",
        UI_HIDDEN_POST,
        lambda w: {"pk": w.source.pk, "key_pk": w.write_key.pk},
    ),
    Case("events:event_list", "get", UI_MANAGE),
    Case("events:health", "get", UI_MANAGE),
    Case("events:attribution", "get", UI_MANAGE),
    Case("events:event_detail", "get", INTAKE_DETAIL, _pk("quarantined")),
    Case("events:event_replay", "post", UI_HIDDEN_POST, _pk("quarantined")),
    Case(
        "events:source_replay",
        "post",
        UI_HIDDEN_POST,
        lambda w: {"pk": w.quarantined.source_id},
    ),
    # Destinations: destinations.*, from 90 days in the role
    Case("destinations:destination_list", "get", UI_MANAGE),
    Case("destinations:destination_create", "get", UI_MANAGE),
    Case("destinations:destination_detail", "get", INTAKE_DETAIL, _pk("destination")),
    Case("destinations:destination_edit", "get", INTAKE_DETAIL, _pk("destination")),
    Case("destinations:destination_test", "post", UI_HIDDEN_POST, _pk("destination")),
    Case("destinations:destination_toggle", "post", UI_HIDDEN_POST, _pk("destination")),
    Case("destinations:destination_load", "post", UI_HIDDEN_POST, _pk("loaded_destination")),
    # the hash key is shown once, on a page of its own
    Case("destinations:destination_hash_key", "post", UI_HIDDEN_ASK, _pk("loaded_destination")),
    Case("destinations:deliveries", "get", UI_MANAGE),
    Case("destinations:dead_letters", "get", UI_MANAGE),
    Case(
        "destinations:replay", "post", UI_MANAGE_POST, None, lambda w: {"ids": [w.dead_letter.pk]}
    ),
    Case("destinations:replay", "get", UI_MANAGE, None, lambda w: {"ids": [w.dead_letter.pk]}),
    Case("destinations:inbox", "get", UI_MANAGE),
    # Reverse ETL: syncs.*, from 90 days in the role
    Case("syncs:warehouse_list", "get", UI_MANAGE),
    Case("syncs:warehouse_create", "get", UI_MANAGE),
    Case("syncs:warehouse_detail", "get", INTAKE_DETAIL, _pk("warehouse")),
    Case("syncs:warehouse_edit", "get", INTAKE_DETAIL, _pk("warehouse")),
    Case("syncs:warehouse_test", "post", UI_HIDDEN_POST, _pk("warehouse")),
    Case("syncs:warehouse_dbt", "get", INTAKE_DETAIL, _pk("warehouse")),
    Case(
        "syncs:warehouse_dbt_pick",
        "post",
        UI_HIDDEN_POST,
        _pk("dbt_warehouse"),
        lambda w: {"unique_id": "model.p.events", "primary_key": "event_id"},
    ),
    Case("syncs:model_list", "get", UI_MANAGE),
    Case("syncs:model_create", "get", UI_MANAGE),
    Case("syncs:model_detail", "get", INTAKE_DETAIL, _pk("model")),
    Case("syncs:model_edit", "get", INTAKE_DETAIL, _pk("model")),
    # Erasure: erasure.*, from 90 days in the role
    Case("erasure:request_list", "get", UI_MANAGE),
    Case("erasure:request_create", "get", UI_MANAGE),
    Case("erasure:request_detail", "get", INTAKE_DETAIL, _pk("erasure_verified")),
    Case("erasure:evidence", "get", INTAKE_DETAIL, _pk("erasure_verified")),
    Case("erasure:evidence_csv", "get", INTAKE_DETAIL, _pk("erasure_verified")),
    Case("erasure:request_verify", "post", UI_HIDDEN_POST, _pk("erasure_received")),
    Case("erasure:request_approve", "post", UI_HIDDEN_POST, _pk("erasure_verified")),
    Case(
        "erasure:request_extend",
        "post",
        UI_HIDDEN_POST,
        _pk("erasure_verified"),
        lambda w: {"reason": "Complex"},
    ),
    Case(
        "erasure:identifier_decide",
        "post",
        UI_HIDDEN_POST,
        lambda w: {
            "pk": w.erasure_verified.pk,
            "identifier_pk": w.erasure_maybe.pk,
        },
        lambda w: {"include": "no"},
    ),
    # a task's own page: its owner sees it without erasure.view (tests/erasure/test_task_page)
    Case("erasure:task_detail", "get", INTAKE_DETAIL, _pk("erasure_manual")),
    Case("erasure:task_retry", "post", UI_HIDDEN_POST, _pk("erasure_failed")),
    Case(
        "erasure:task_confirm",
        "post",
        UI_HIDDEN_POST,
        _pk("erasure_manual"),
        lambda w: {"note": "Deleted by hand"},
    ),
    Case(
        "erasure:task_not_applicable",
        "post",
        UI_HIDDEN_POST,
        _pk("erasure_manual"),
        lambda w: {"reason": "Holds nothing"},
    ),
    Case("syncs:sync_list", "get", UI_MANAGE),
    Case("syncs:sync_create", "get", UI_MANAGE),
    Case("syncs:sync_detail", "get", INTAKE_DETAIL, _pk("sync")),
    Case("syncs:sync_edit", "get", INTAKE_DETAIL, _pk("sync")),
    Case("syncs:sync_mappings", "get", INTAKE_DETAIL, _pk("sync")),
    Case("syncs:sync_run", "post", UI_HIDDEN_POST, _pk("sync")),
    Case("syncs:sync_dry_run", "post", UI_HIDDEN_POST, _pk("sync")),
    Case("syncs:sync_dry_run", "get", UI_HIDDEN_ASK, _pk("sync")),
    Case("syncs:sync_pause", "post", UI_HIDDEN_POST, _pk("sync")),
    Case("syncs:sync_resume", "post", UI_HIDDEN_POST, _pk("sync")),
    Case("syncs:run_detail", "get", INTAKE_DETAIL, _pk("held_run")),
    Case("syncs:run_approve", "post", UI_HIDDEN_POST, _pk("held_run")),
    Case("syncs:run_cancel", "post", UI_HIDDEN_POST, _pk("held_run")),
    # --- API ---
    Case("api:me", "get", API_ALL),
    Case("api:me-permissions", "get", API_ALL),
    Case(
        "api:token-obtain",
        "post",
        expect(201, 201, 201, 201, 201),
        None,
        lambda w: {"email": w.people["employee"].email, "password": PASSWORD, "name": "cli"},
    ),
    Case("api:user-list", "get", API_ALL),
    Case(
        "api:user-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {"email": "new.person@acme.example", "full_name": "New Person"},
    ),
    Case("api:user-detail", "get", API_ALL, _other),
    Case("api:user-detail", "patch", API_MANAGE, _other, lambda w: {"team": "Growth"}),
    Case("api:user-access", "get", expect(401, 403, 403, 200, 200), _other),
    Case("api:api-token-list", "get", API_ALL),
    Case("api:api-token-detail", "get", expect(401, 200, 404, 404, 404), _pk("employee_token")),
    Case("api:api-token-detail", "delete", expect(401, 204, 404, 404, 404), _pk("employee_token")),
    Case("api:role-list", "get", API_ALL),
    Case(
        "api:role-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {"name": "New", "owner": w.people["other"].pk},
    ),
    Case("api:role-detail", "get", API_ALL, _pk("role")),
    Case("api:role-detail", "patch", API_MANAGE, _pk("role"), lambda w: {"description": "Updated"}),
    Case("api:role-detail", "delete", API_MANAGE_DELETE, _pk("unused")),
    Case(
        "api:role-capabilities",
        "post",
        API_MANAGE,
        _pk("role"),
        lambda w: {"capability": "accounts.view_access", "min_tenure_days": 10},
    ),
    Case(
        "api:role-capability-remove",
        "delete",
        API_MANAGE_DELETE,
        lambda w: {"pk": w.role.pk, "capability": "audit.view"},
    ),
    Case(
        "api:role-birthright-rules",
        "post",
        API_MANAGE_CREATE,
        _pk("role"),
        lambda w: {"team": "Growth"},
    ),
    Case(
        "api:role-birthright-rule-remove",
        "delete",
        API_MANAGE_DELETE,
        lambda w: {"pk": w.role.pk, "rule_id": w.birthright.pk},
    ),
    Case("api:training-list", "get", API_ALL),
    Case("api:training-list", "post", API_MANAGE_CREATE, None, lambda w: {"name": "GDPR basics"}),
    Case("api:training-detail", "get", API_ALL, _pk("training")),
    Case(
        "api:training-detail", "patch", API_MANAGE, _pk("training"), lambda w: {"validity_days": 90}
    ),
    Case("api:training-completion-list", "get", API_ALL),
    Case(
        "api:training-completion-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {
            "user": w.people["other"].pk,
            "training": w.training.pk,
            "completed_on": TODAY.isoformat(),
        },
    ),
    Case("api:training-completion-detail", "delete", API_HIDDEN_DELETE, _pk("completion")),
    Case("api:role-assignment-list", "get", API_ALL),
    Case(
        "api:role-assignment-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {"user": w.people["other"].pk, "role": w.role.pk},
    ),
    Case("api:role-assignment-detail", "get", API_HIDDEN, _pk("assignment")),
    Case("api:role-assignment-detail", "delete", API_HIDDEN_DELETE, _pk("assignment")),
    Case("api:grant-list", "get", API_ALL),
    Case("api:grant-detail", "get", API_HIDDEN, _pk("grant")),
    Case("api:access-request-list", "get", API_ALL),
    Case(
        "api:access-request-list",
        "post",
        expect(401, 201, 201, 201, 201),
        None,
        lambda w: {"role": w.spare.pk, "justification": "Cover", "duration_days": 3},
    ),
    Case("api:access-request-detail", "get", API_HIDDEN, _pk("request_other")),
    Case(
        "api:access-request-approve",
        "post",
        expect(401, 403, 404, 403, 200),
        _pk("request_employee"),
    ),
    Case(
        "api:access-request-reject",
        "post",
        expect(401, 403, 404, 403, 200),
        _pk("request_employee"),
    ),
    Case(
        "api:access-request-cancel",
        "post",
        expect(401, 200, 404, 403, 403),
        _pk("request_employee"),
    ),
    Case("api:review-list", "get", API_ALL),
    Case(
        "api:review-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {
            "name": "Spot check",
            "roles": [w.role.pk],
            "deadline": (FROZEN + dt.timedelta(days=3)).isoformat(),
            "unreviewed_policy": "revoke",
        },
    ),
    Case("api:review-detail", "get", API_HIDDEN, _pk("campaign")),
    Case("api:review-close", "post", API_HIDDEN, _pk("campaign")),
    Case("api:review-item-list", "get", API_ALL),
    Case("api:review-item-detail", "get", API_HIDDEN, _pk("item")),
    Case("api:review-item-decide", "post", API_HIDDEN, _pk("item"), lambda w: {"decision": "keep"}),
    Case("api:tool-list", "get", API_MANAGE),
    Case(
        "api:tool-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {"name": "Iterable", "vendor": "Iterable", "category": "Messaging"},
    ),
    Case("api:tool-detail", "get", API_HIDDEN, _pk("tool")),
    Case("api:tool-detail", "patch", API_HIDDEN, _pk("tool"), lambda w: {"seats_used": 3}),
    Case("api:tool-redundancy", "get", API_MANAGE),
    Case(
        "api:tool-advisor",
        "post",
        API_MANAGE,
        None,
        lambda w: {
            "monthly_active_users": 1000,
            "events_per_month": 1000,
            "destinations": 1,
            "engineers": 1,
        },
    ),
    Case(
        "api:tool-import",
        "post",
        API_MANAGE,
        None,
        lambda w: {"csv": "name,vendor,category\nIterable,Iterable,Messaging\n"},
    ),
    Case("api:intake-request-list", "get", API_ALL),
    Case("api:intake-request-list", "post", API_MANAGE_CREATE, None, lambda w: {"title": "CDP"}),
    Case("api:intake-request-detail", "get", API_HIDDEN, _pk("intake_problem")),
    Case(
        "api:intake-request-detail",
        "patch",
        API_HIDDEN,
        _pk("intake_problem"),
        lambda w: {"title": "Renamed"},
    ),
    Case("api:intake-request-advance", "post", API_HIDDEN, _pk("intake_problem")),
    Case(
        "api:intake-request-withdraw",
        "post",
        API_HIDDEN,
        _pk("intake_problem"),
        lambda w: {"note": "Duplicate"},
    ),
    Case(
        "api:intake-request-approve",
        "post",
        API_APPROVER,
        _pk("intake_decision"),
        lambda w: {"comment": "Yes"},
    ),
    Case(
        "api:intake-request-reject",
        "post",
        API_APPROVER,
        _pk("intake_decision"),
        lambda w: {"comment": "No"},
    ),
    Case(
        "api:intake-request-defer",
        "post",
        API_APPROVER,
        _pk("intake_decision"),
        lambda w: {"revisit_on": (TODAY + dt.timedelta(days=20)).isoformat(), "comment": "Q3"},
    ),
    Case("api:intake-request-reopen", "post", API_HIDDEN, _pk("intake_deferred")),
    Case(
        "api:intake-request-stakeholders",
        "post",
        API_HIDDEN_CREATE,
        _pk("intake_people"),
        lambda w: {"person": w.people["employee"].pk, "part": "consulted"},
    ),
    Case(
        "api:intake-request-stakeholder-remove",
        "delete",
        API_HIDDEN_DELETE,
        lambda w: {"pk": w.intake_people.pk, "stakeholder_id": w.intake_stakeholder.pk},
    ),
    Case(
        "api:intake-request-candidates",
        "post",
        API_HIDDEN_CREATE,
        _pk("intake_system"),
        lambda w: {"name": "Pushwoosh"},
    ),
    Case(
        "api:intake-request-candidate-remove",
        "delete",
        API_HIDDEN_DELETE,
        lambda w: {"pk": w.intake_system.pk, "candidate_id": w.intake_candidate.pk},
    ),
    Case(
        "api:intake-request-candidate-prefer",
        "post",
        API_HIDDEN,
        lambda w: {"pk": w.intake_system.pk, "candidate_id": w.intake_candidate.pk},
    ),
    Case(
        "api:intake-request-onboarding-task",
        "patch",
        API_HIDDEN,
        lambda w: {"pk": w.intake_approved.pk, "task_id": w.intake_task.pk},
        lambda w: {"done": True},
    ),
    Case("api:intake-request-overlap", "get", API_HIDDEN, _pk("intake_system")),
    Case("api:profile-list", "get", API_MANAGE),
    Case("api:profile-detail", "get", API_HIDDEN, _pk("profile")),
    Case(
        "api:profile-merge", "post", API_HIDDEN, _pk("profile"), lambda w: {"other": w.profile_b.pk}
    ),
    Case(
        "api:profile-unmerge", "post", API_HIDDEN, _pk("profile"), lambda w: {"merge": w.merge.pk}
    ),
    Case("api:identity-link-list", "get", API_MANAGE),
    Case("api:identity-link-detail", "get", API_HIDDEN, _pk("pending_link")),
    Case("api:identity-link-confirm", "post", API_HIDDEN, _pk("pending_link")),
    Case("api:identity-link-reject", "post", API_HIDDEN, _pk("pending_link")),
    Case("api:consent-record-list", "get", API_MANAGE),
    Case(
        "api:consent-record-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {
            "identifier": "email:mei@example.com",
            "purpose": "analytics",
            "granted": True,
            "jurisdiction": "gdpr",
        },
    ),
    Case("api:consent-state", "get", API_MANAGE, None, lambda w: {"identifier": "email:a@b.co"}),
    Case("api:schema-list", "get", API_MANAGE),
    Case("api:schema-list", "post", API_MANAGE_CREATE, None, lambda w: {"name": "Cart Viewed"}),
    Case("api:schema-detail", "get", API_HIDDEN, lambda w: {"pk": w.registry["schema"].pk}),
    Case(
        "api:schema-detail",
        "patch",
        API_HIDDEN,
        lambda w: {"pk": w.registry["schema"].pk},
        lambda w: {"owner": "Growth"},
    ),
    Case(
        "api:schema-validate",
        "post",
        API_MANAGE,
        None,
        lambda w: {"event": "Order Completed", "properties": {}, "plan": w.registry["plan"].pk},
    ),
    Case(
        "api:schema-version-list",
        "get",
        API_HIDDEN,
        lambda w: {"schema_pk": w.registry["schema"].pk},
    ),
    Case(
        "api:schema-version-list",
        "post",
        API_HIDDEN_CREATE,
        lambda w: {"schema_pk": w.registry["signup"].pk},
    ),
    Case("api:schema-version-detail", "get", API_HIDDEN, _api_version("draft")),
    Case(
        "api:schema-version-detail",
        "patch",
        API_HIDDEN,
        _api_version("draft"),
        lambda w: {"notes": "Coupons"},
    ),
    Case("api:schema-version-detail", "delete", API_HIDDEN_DELETE, _api_version("draft")),
    Case("api:schema-version-preview", "get", API_HIDDEN, _api_version("draft")),
    Case("api:schema-version-publish-impact", "get", API_HIDDEN, _api_version("draft")),
    Case("api:schema-version-publish", "post", API_HIDDEN, _api_version("draft")),
    Case("api:schema-version-deprecate", "post", API_HIDDEN, _api_version("published")),
    Case("api:tracking-plan-list", "get", API_MANAGE),
    Case("api:tracking-plan-list", "post", API_MANAGE_CREATE, None, lambda w: {"name": "iOS"}),
    Case("api:tracking-plan-detail", "get", API_HIDDEN, lambda w: {"pk": w.registry["plan"].pk}),
    Case(
        "api:tracking-plan-detail",
        "patch",
        API_HIDDEN,
        lambda w: {"pk": w.registry["plan"].pk},
        lambda w: {"versions": [w.registry["published"].pk]},
    ),
    Case("api:tracking-plan-export", "get", API_HIDDEN, lambda w: {"pk": w.registry["plan"].pk}),
    # The import takes a multipart upload: JSON answers 415, after the permission check.
    Case("api:tracking-plan-import", "post", expect(401, 403, 403, 415, 415)),
    Case("api:violation-list", "get", API_MANAGE),
    Case("api:destination-list", "get", API_MANAGE),
    Case(
        "api:destination-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {
            "name": "Audit hook",
            "adapter": "webhook",
            "tool": w.tool.pk,
            "config": {"url": "https://hooks.acme.example/audit"},
        },
    ),
    Case("api:destination-detail", "get", API_HIDDEN, _pk("destination")),
    Case(
        "api:destination-detail",
        "patch",
        API_HIDDEN,
        _pk("destination"),
        lambda w: {"description": "Every order"},
    ),
    Case("api:destination-send-test", "post", API_HIDDEN_CREATE, _pk("destination")),
    Case("api:destination-loads", "get", API_HIDDEN, _pk("loaded_destination")),
    Case("api:destination-load", "post", API_HIDDEN_ACCEPTED, _pk("loaded_destination")),
    Case("api:destination-hash-key", "post", API_HIDDEN, _pk("loaded_destination")),
    Case("api:delivery-list", "get", API_MANAGE),
    Case("api:delivery-detail", "get", API_HIDDEN, _pk("dead_letter")),
    Case("api:dead-letter-list", "get", API_MANAGE),
    Case("api:dead-letter-detail", "get", API_HIDDEN, _pk("dead_letter")),
    Case("api:dead-letter-replay", "post", API_HIDDEN, _pk("dead_letter")),
    Case(
        "api:dead-letter-replay-many",
        "post",
        API_MANAGE,
        None,
        lambda w: {"deliveries": [w.dead_letter.pk]},
    ),
    Case("api:warehouse-list", "get", API_MANAGE),
    Case(
        "api:warehouse-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {
            "name": "Analytics",
            "kind": "postgres",
            "dsn": "postgresql://reader@db.acme.example/analytics",
        },
    ),
    Case("api:warehouse-detail", "get", API_HIDDEN, _pk("warehouse")),
    Case(
        "api:warehouse-detail",
        "patch",
        API_HIDDEN,
        _pk("warehouse"),
        lambda w: {"description": "Read-only"},
    ),
    Case("api:warehouse-test", "post", API_HIDDEN, _pk("warehouse")),
    Case("api:warehouse-dbt-models", "get", API_HIDDEN, _pk("warehouse")),
    Case(
        "api:warehouse-dbt-models",
        "post",
        expect(401, 404, 404, 200, 200),
        _pk("warehouse"),
        lambda w: DBT_MANIFEST,
    ),
    Case(
        "api:model-from-dbt",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {
            "warehouse": w.dbt_warehouse.pk,
            "unique_id": "model.p.events",
            "primary_key": "event_id",
        },
    ),
    Case(
        "api:dbt-run-list",
        "post",
        expect(401, 403, 403, 202, 202),
        None,
        lambda w: {"unique_ids": ["model.p.events"]},
    ),
    Case("api:model-list", "get", API_MANAGE),
    Case(
        "api:model-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {
            "name": "Twos",
            "warehouse": w.warehouse.pk,
            "sql": "SELECT 2 AS id",
            "primary_key": "id",
        },
    ),
    Case("api:model-detail", "get", API_HIDDEN, _pk("model")),
    Case("api:model-detail", "patch", API_HIDDEN, _pk("model"), lambda w: {"description": "x"}),
    Case("api:model-preview", "get", API_HIDDEN, _pk("model")),
    Case("api:model-key-check", "get", API_HIDDEN, _pk("model")),
    Case("api:erasure-request-list", "get", API_MANAGE),
    Case(
        "api:erasure-request-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {"identifier": "email:new@x.example", "channel": "api", "jurisdiction": "ccpa"},
    ),
    Case("api:erasure-request-detail", "get", API_HIDDEN, _pk("erasure_verified")),
    Case(
        "api:erasure-request-verify",
        "post",
        API_HIDDEN,
        _pk("erasure_received"),
        lambda w: {"note": "Checked"},
    ),
    Case("api:erasure-request-approve", "post", API_HIDDEN, _pk("erasure_verified")),
    Case(
        "api:erasure-request-extend",
        "post",
        API_HIDDEN,
        _pk("erasure_verified"),
        lambda w: {"reason": "Complex"},
    ),
    Case(
        "api:erasure-request-retry-task",
        "post",
        API_HIDDEN,
        _pk("erasure_verified"),
        lambda w: {"task": w.erasure_failed.pk},
    ),
    Case(
        "api:erasure-request-confirm-manual-task",
        "post",
        API_HIDDEN,
        _pk("erasure_verified"),
        lambda w: {"task": w.erasure_manual.pk, "note": "Deleted by hand"},
    ),
    Case("api:sync-list", "get", API_MANAGE),
    Case(
        "api:sync-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {
            "name": "Ones again",
            "model": w.model.pk,
            "destination": w.destination.pk,
            "object": "users",
            "subject_column": "label",
            "subject_type": "user_id",
            "mappings": [{"from": "id", "to": "number"}],
        },
    ),
    Case("api:sync-detail", "get", API_HIDDEN, _pk("sync")),
    Case("api:sync-detail", "patch", API_HIDDEN, _pk("sync"), lambda w: {"description": "x"}),
    Case("api:sync-run", "post", expect(401, 404, 404, 202, 202), _pk("sync")),
    Case("api:sync-dry-run", "post", expect(401, 404, 404, 202, 202), _pk("sync")),
    Case("api:sync-pause", "post", API_HIDDEN, _pk("sync")),
    Case("api:sync-resume", "post", API_HIDDEN, _pk("sync")),
    Case("api:sync-run-list", "get", API_MANAGE),
    Case("api:sync-run-detail", "get", API_HIDDEN, _pk("held_run")),
    Case("api:sync-run-rows", "get", API_HIDDEN, _pk("held_run")),
    Case("api:sync-run-approve", "post", API_HIDDEN, _pk("held_run")),
    Case("api:sync-run-cancel", "post", API_HIDDEN, _pk("held_run")),
    Case("api:event-list", "get", API_MANAGE),
    Case("api:event-detail", "get", API_HIDDEN, _pk("quarantined")),
    Case("api:event-replay", "post", API_MANAGE, None, lambda w: {"events": [w.quarantined.pk]}),
    Case("api:source-list", "get", API_MANAGE),
    Case("api:source-list", "post", API_MANAGE_CREATE, None, lambda w: {"name": "iOS app"}),
    Case("api:source-detail", "get", API_HIDDEN, _pk("source")),
    Case("api:source-detail", "patch", API_HIDDEN, _pk("source"), lambda w: {"rate_limit": 50}),
    Case(
        "api:source-rotate-key",
        "post",
        API_HIDDEN_CREATE,
        _pk("source"),
        lambda w: {"overlap_hours": 1},
    ),
    Case(
        "api:source-revoke-key",
        "post",
        API_HIDDEN,
        _pk("source"),
        lambda w: {"key": w.write_key.pk},
    ),
    Case("api:violation-detail", "get", API_HIDDEN, lambda w: {"pk": w.registry["violation"].pk}),
    Case("api:purpose-list", "get", API_MANAGE),
    Case(
        "api:purpose-list",
        "post",
        API_MANAGE_CREATE,
        None,
        lambda w: {"code": "research", "name": "Research", "legal_basis": "consent"},
    ),
    Case("api:purpose-detail", "get", API_HIDDEN, _pk("purpose")),
    Case("api:purpose-detail", "patch", API_HIDDEN, _pk("purpose"), lambda w: {"position": 5}),
    Case("api:audit-event-list", "get", API_MANAGE),
    Case("api:audit-event-detail", "get", API_HIDDEN, _pk("event")),
]


def test_every_url_has_a_matrix_entry():
    covered = {case.name for case in CASES}
    assert sorted(url_names() - covered) == [], "URLs without a permission-matrix entry"
    assert sorted(covered - url_names()) == [], "matrix entries for URLs that do not exist"


def _client(world: World, persona: str, api: bool):
    if api:
        client = APIClient()
        if persona != "anonymous":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.tokens[persona]}")
        return client
    client = Client()
    if persona != "anonymous":
        client.force_login(world.people[persona])
    return client


@pytest.mark.parametrize("persona", _visiting())
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.name}")
def test_permission_matrix(case: Case, persona: str, world: World):
    # given
    api = case.name.startswith("api:")
    client = _client(world, persona, api)
    url = reverse(case.name, kwargs=case.kwargs(world) if case.kwargs else None)
    data = case.data(world) if case.data else {}
    expected = case.expected[persona]
    # when
    with time_machine.travel(FROZEN + dt.timedelta(minutes=1), tick=False):
        if api:
            response = getattr(client, case.method)(url, data, format="json")
        elif case.method == "post":
            # A consequential action asks first and acts once confirmed: the matrix checks
            # the acting, and that the question is refused to whoever may not act.
            response = client.post(url, {**data, "confirmed": "1"})
            if expected in (403, 404):
                assert client.post(url, data).status_code == expected
        else:
            response = getattr(client, case.method)(url, data)
    # then
    if expected == LOGIN:
        assert response.status_code == 302, response.content[:300]
        assert response.url.startswith(reverse("accounts:login"))
    else:
        body = getattr(response, "content", b"")[:300]
        assert response.status_code == expected, f"{persona} {case.method} {url}: {body!r}"
        if response.status_code == 302 and persona != "anonymous" and not api:
            # A redirect means success here, not a form error sent back as a message.
            assert not response.url.startswith(reverse("accounts:login"))
            errors = [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
            assert errors == [], [str(m) for m in errors]
