"""People for the intake tests: a requester, two deciders, and someone with no part."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.access import services as svc
from apps.accounts.models import User
from apps.intake import services
from apps.intake.models import IntakeRequest
from tests.factories import AdminFactory, UserFactory


@dataclass
class Cast:
    admin: User
    requester: User
    alice: User  # decider
    bob: User  # decider
    outsider: User  # no intake capability


@pytest.fixture
def cast(db) -> Cast:
    admin = AdminFactory(full_name="Priya Raman")
    submitters = svc.role_create(actor=admin, name="Intake submitters", owner=admin)
    svc.role_capability_set(actor=admin, role=submitters, capability="intake.submit")
    deciders = svc.role_create(actor=admin, name="Intake deciders", owner=admin)
    svc.role_capability_set(actor=admin, role=deciders, capability="intake.decide")
    svc.role_capability_set(actor=admin, role=deciders, capability="intake.submit")
    requester = UserFactory(full_name="Mei Tanaka", team="Lifecycle Marketing")
    alice = UserFactory(full_name="Alice Approver")
    bob = UserFactory(full_name="Bob Approver")
    outsider = UserFactory(full_name="Olu Outsider")
    svc.role_assign(actor=admin, user=requester, role=submitters)
    for person in (alice, bob):
        svc.role_assign(actor=admin, user=person, role=deciders)
    return Cast(admin, requester, alice, bob, outsider)


PROBLEM = {
    "problem_statement": "Push campaigns need an engineer for every change.",
    "who_suffers": "Lifecycle marketers and the mobile team.",
    "cost_hours_per_month": Decimal("24"),
    "evidence": "14 tickets in October.",
}


def request_at(cast: Cast, stage: str, *, approvers=None, candidates=None) -> IntakeRequest:
    """A request walked through the services up to ``stage`` (problem … decision)."""
    actor = cast.requester
    req = services.intake_create(actor=actor, title="Push without engineers", **PROBLEM)
    if stage == "problem":
        return req
    req = services.intake_advance(actor=actor, request=req)
    for person in approvers if approvers is not None else [cast.alice, cast.bob]:
        services.stakeholder_add(actor=actor, request=req, person=person, part="approver")
    if stage == "people":
        return req
    req = services.intake_advance(actor=actor, request=req)
    req = services.intake_update(
        actor=actor, request=req, approach="buy", proposed_capabilities=["push_sms"]
    )
    for name in candidates or ["OneSignal"]:
        services.candidate_add(
            actor=actor, request=req, name=name, vendor=name, estimated_annual_cost=Decimal("18000")
        )
    if stage == "system":
        return req
    return services.intake_advance(actor=actor, request=req)
