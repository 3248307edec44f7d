"""A request walks Problem → People → System → Decision and cannot skip a stage."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.intake import services
from apps.intake.models import IntakeRequest
from apps.tools.models import Tool
from apps.tools.services import tool_create
from martech.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from tests.intake.conftest import request_at

pytestmark = pytest.mark.django_db


def test_a_new_request_starts_at_problem_and_needs_intake_submit(cast):
    req = services.intake_create(actor=cast.requester, title="Slow lead routing")
    assert req.stage == "problem"
    assert req.team == "Lifecycle Marketing"
    with pytest.raises(PermissionDeniedError):
        services.intake_create(actor=cast.outsider, title="Anything")


def test_moving_on_with_an_incomplete_problem_says_what_is_missing(cast):
    req = services.intake_create(
        actor=cast.requester, title="Slow lead routing", problem_statement="Leads wait."
    )
    with pytest.raises(ApplicationError) as caught:
        services.intake_advance(actor=cast.requester, request=req)
    assert caught.value.code == "stage_incomplete"
    assert caught.value.details["missing"]["problem"] == [
        "Say who suffers it.",
        "Say what it costs today, in hours or money a month.",
        "Give the evidence.",
    ]
    req.refresh_from_db()
    assert req.stage == "problem"


def test_a_cost_of_money_alone_completes_the_problem(cast):
    req = services.intake_create(
        actor=cast.requester,
        title="Unattributed spend",
        problem_statement="Spend cannot be attributed.",
        who_suffers="Growth.",
        cost_money_per_month=Decimal("12000"),
        evidence="62% of opportunities lack a source.",
    )
    assert services.intake_advance(actor=cast.requester, request=req).stage == "people"


def test_stakeholders_cannot_be_named_before_the_problem_is_complete(cast):
    req = request_at(cast, "problem")
    with pytest.raises(ConflictError) as caught:
        services.stakeholder_add(
            actor=cast.requester, request=req, person=cast.alice, part="approver"
        )
    assert caught.value.code == "stage_locked"


def test_the_system_stage_cannot_be_filled_before_problem_and_people(cast):
    for stage in ("problem", "people"):
        req = request_at(cast, stage)
        with pytest.raises(ConflictError) as caught:
            services.intake_update(actor=cast.requester, request=req, approach="buy")
        assert caught.value.code == "stage_locked"
        with pytest.raises(ConflictError):
            services.candidate_add(actor=cast.requester, request=req, name="OneSignal")
        assert not req.candidates.exists()


def test_people_needs_an_approver_who_can_decide(cast):
    req = request_at(cast, "people", approvers=[])
    with pytest.raises(ApplicationError) as caught:
        services.intake_advance(actor=cast.requester, request=req)
    assert caught.value.details["missing"] == {"people": ["Name at least one approver."]}
    with pytest.raises(ApplicationError) as caught:
        services.stakeholder_add(
            actor=cast.requester, request=req, person=cast.outsider, part="approver"
        )
    assert caught.value.code == "approver_cannot_decide"
    services.stakeholder_add(
        actor=cast.requester, request=req, person=cast.outsider, part="needs_training"
    )
    services.stakeholder_add(actor=cast.requester, request=req, person=cast.alice, part="approver")
    assert services.intake_advance(actor=cast.requester, request=req).stage == "system"


def test_the_requester_cannot_approve_their_own_request(cast):
    req = request_at(cast, "people", approvers=[])
    with pytest.raises(ApplicationError) as caught:
        services.stakeholder_add(
            actor=cast.alice, request=req, person=cast.requester, part="approver"
        )
    assert caught.value.code == "self_approval"


def test_naming_a_person_again_changes_their_part(cast):
    req = request_at(cast, "people", approvers=[cast.alice])
    services.stakeholder_add(actor=cast.requester, request=req, person=cast.alice, part="informed")
    assert list(req.stakeholders.values_list("part", flat=True)) == ["informed"]


def test_going_for_decision_needs_approach_capabilities_and_a_candidate(cast):
    req = request_at(cast, "people")
    req = services.intake_advance(actor=cast.requester, request=req)
    with pytest.raises(ApplicationError) as caught:
        services.intake_advance(actor=cast.requester, request=req)
    assert caught.value.details["missing"]["system"] == [
        "Choose build, buy or both.",
        "Choose the capabilities the system must have.",
        "Add at least one candidate tool.",
    ]
    services.intake_update(
        actor=cast.requester, request=req, approach="buy", proposed_capabilities=["push_sms"]
    )
    services.candidate_add(actor=cast.requester, request=req, name="Our own scheduler")
    with pytest.raises(ApplicationError) as caught:
        services.intake_advance(actor=cast.requester, request=req)
    assert caught.value.details["missing"]["system"] == [
        "Buying needs at least one candidate with a vendor."
    ]


def test_a_stage_completed_earlier_and_then_emptied_blocks_moving_on(cast):
    req = request_at(cast, "system")
    services.intake_update(actor=cast.requester, request=req, evidence="")
    with pytest.raises(ApplicationError) as caught:
        services.intake_advance(actor=cast.requester, request=req)
    assert list(caught.value.details["missing"]) == ["problem"]


def test_nothing_can_be_edited_once_the_request_is_with_the_approvers(cast):
    req = request_at(cast, "decision")
    assert req.stage == "decision"
    with pytest.raises(ConflictError):
        services.intake_update(actor=cast.requester, request=req, title="Renamed")
    with pytest.raises(ConflictError):
        services.stakeholder_add(
            actor=cast.requester, request=req, person=cast.outsider, part="informed"
        )
    with pytest.raises(ConflictError):
        services.intake_advance(actor=cast.requester, request=req)


def test_unknown_capabilities_are_refused(cast):
    req = request_at(cast, "system")
    with pytest.raises(ApplicationError) as caught:
        services.intake_update(
            actor=cast.requester, request=req, proposed_capabilities=["push_sms", "telepathy"]
        )
    assert caught.value.details == {"proposed_capabilities": ["telepathy"]}


def test_only_the_requester_or_a_decider_edits(cast):
    req = request_at(cast, "problem")
    with pytest.raises(PermissionDeniedError):
        services.intake_update(actor=cast.outsider, request=req, title="Mine now")
    assert services.intake_update(actor=cast.alice, request=req, title="Tidied").title == "Tidied"


# --- Decision ---------------------------------------------------------------------------------


def test_every_approver_must_approve_before_the_tool_comes_in(cast):
    req = request_at(cast, "decision")
    services.intake_vote(actor=cast.alice, request=req, verdict="approve", comment="Yes.")
    req.refresh_from_db()
    assert (req.stage, req.outcome, req.tool) == ("decision", "", None)
    assert not Tool.objects.filter(name="OneSignal").exists()

    services.intake_vote(actor=cast.bob, request=req, verdict="approve", comment="Agreed.")

    req.refresh_from_db()
    assert (req.stage, req.outcome) == ("closed", "approved")
    tool = Tool.objects.get(name="OneSignal")
    assert req.tool == tool
    assert tool.status == "evaluating"
    assert tool.capabilities == ["push_sms"]
    assert tool.business_owner == cast.requester
    assert tool.annual_cost == Decimal("18000.00")
    titles = list(req.onboarding_tasks.values_list("title", flat=True))
    assert len(titles) == 7
    assert titles[1] == "Get a data processing agreement (DPA) on file"


def test_the_checklist_names_the_people_who_need_training(cast):
    req = request_at(cast, "people", approvers=[cast.alice])
    services.stakeholder_add(
        actor=cast.requester, request=req, person=cast.outsider, part="needs_training"
    )
    req = services.intake_advance(actor=cast.requester, request=req)
    services.intake_update(
        actor=cast.requester, request=req, approach="build", proposed_capabilities=["push_sms"]
    )
    services.candidate_add(actor=cast.requester, request=req, name="Push scheduler")
    req = services.intake_advance(actor=cast.requester, request=req)
    services.intake_vote(actor=cast.alice, request=req, verdict="approve", comment="Build it.")
    req.refresh_from_db()
    assert req.tool.vendor == "In-house"
    assert f"Train the people who need it: {cast.outsider.full_name}" in list(
        req.onboarding_tasks.values_list("title", flat=True)
    )


def test_one_rejection_rejects_the_request(cast):
    req = request_at(cast, "decision")
    services.intake_vote(actor=cast.alice, request=req, verdict="approve", comment="Yes.")
    services.intake_vote(actor=cast.bob, request=req, verdict="reject", comment="Braze does push.")
    req.refresh_from_db()
    assert (req.stage, req.outcome, req.decision_note) == ("closed", "rejected", "Braze does push.")
    assert req.tool is None
    assert not Tool.objects.filter(name="OneSignal").exists()


def test_a_vote_needs_a_comment_and_counts_once(cast):
    req = request_at(cast, "decision")
    with pytest.raises(ApplicationError) as caught:
        services.intake_vote(actor=cast.alice, request=req, verdict="approve", comment="  ")
    assert caught.value.code == "comment_required"
    services.intake_vote(actor=cast.alice, request=req, verdict="approve", comment="Yes.")
    with pytest.raises(ConflictError) as caught:
        services.intake_vote(actor=cast.alice, request=req, verdict="reject", comment="No.")
    assert caught.value.code == "already_decided"


def test_only_the_named_approvers_decide(cast):
    req = request_at(cast, "decision", approvers=[cast.alice])
    with pytest.raises(PermissionDeniedError):
        services.intake_vote(actor=cast.bob, request=req, verdict="approve", comment="Me too.")
    with pytest.raises(PermissionDeniedError):
        services.intake_vote(actor=cast.admin, request=req, verdict="approve", comment="Admin.")


def test_approving_a_registered_candidate_reuses_the_registry_entry(cast):
    existing = tool_create(
        actor=cast.admin, name="Braze", vendor="Braze", category="Messaging", status="proposed"
    )
    req = request_at(cast, "decision", approvers=[cast.alice], candidates=["braze"])
    assert req.candidates.get().tool == existing
    services.intake_vote(actor=cast.alice, request=req, verdict="approve", comment="Use it.")
    existing.refresh_from_db()
    assert existing.status == "evaluating"
    assert Tool.objects.filter(name__iexact="braze").count() == 1


def test_the_preferred_candidate_is_the_one_brought_in(cast):
    req = request_at(cast, "system", approvers=[cast.alice], candidates=["OneSignal", "Airship"])
    airship = req.candidates.get(name="Airship")
    assert not airship.preferred
    services.candidate_prefer(actor=cast.requester, candidate=airship)
    assert list(req.candidates.filter(preferred=True).values_list("name", flat=True)) == ["Airship"]
    req = services.intake_advance(actor=cast.requester, request=req)
    services.intake_vote(actor=cast.alice, request=req, verdict="approve", comment="Airship.")
    req.refresh_from_db()
    assert req.tool.name == "Airship"


def test_removing_the_preferred_candidate_prefers_the_next(cast):
    req = request_at(cast, "system", candidates=["OneSignal", "Airship"])
    services.candidate_remove(actor=cast.requester, candidate=req.candidates.get(name="OneSignal"))
    assert req.candidates.get().preferred


def test_defer_needs_a_future_date_and_reopen_starts_a_new_round(cast):
    req = request_at(cast, "decision")
    services.intake_vote(actor=cast.alice, request=req, verdict="approve", comment="Yes.")
    with pytest.raises(ApplicationError) as caught:
        services.intake_defer(
            actor=cast.bob, request=req, revisit_on=timezone.localdate(), comment="Later."
        )
    assert caught.value.code == "revisit_past"
    revisit = timezone.localdate() + dt.timedelta(days=30)
    services.intake_defer(actor=cast.bob, request=req, revisit_on=revisit, comment="After Q1.")
    req.refresh_from_db()
    assert (req.stage, req.outcome, req.revisit_on) == ("closed", "deferred", revisit)

    req = services.intake_reopen(actor=cast.requester, request=req)

    assert (req.stage, req.outcome, req.round, req.revisit_on) == ("decision", "", 2, None)
    # Alice's approval was for round 1: both decide again.
    services.intake_vote(actor=cast.bob, request=req, verdict="approve", comment="Now yes.")
    req.refresh_from_db()
    assert req.outcome == ""
    services.intake_vote(actor=cast.alice, request=req, verdict="approve", comment="Still yes.")
    req.refresh_from_db()
    assert req.outcome == "approved"


def test_only_a_deferred_request_can_be_reopened(cast):
    req = request_at(cast, "decision")
    with pytest.raises(ConflictError) as caught:
        services.intake_reopen(actor=cast.requester, request=req)
    assert caught.value.code == "not_deferred"


def test_withdrawing_closes_the_request(cast):
    req = request_at(cast, "people")
    req = services.intake_withdraw(actor=cast.requester, request=req, note="Solved by training.")
    assert (req.stage, req.outcome) == ("closed", "withdrawn")
    with pytest.raises(ConflictError):
        services.intake_withdraw(actor=cast.requester, request=req)


def test_the_history_tells_the_whole_story_and_the_audit_log_has_it_too(cast):
    from apps.audit.models import AuditEvent

    req = request_at(cast, "decision", approvers=[cast.alice])
    services.intake_vote(actor=cast.alice, request=req, verdict="approve", comment="Go.")
    messages = list(req.history.values_list("message", flat=True))
    assert messages[0] == "Started the request: Push without engineers."
    assert "Moved the request to People." in messages
    assert "Named Alice Approver as an approver." in messages
    assert "Moved the request to System." in messages
    assert any(m.startswith("Added candidate OneSignal") for m in messages)
    assert "Moved the request to Decision." in messages
    assert "Approved: Go." in messages
    assert messages[-1] == "Approved by every approver; OneSignal is evaluating."
    actions = set(AuditEvent.objects.filter(target_id=str(req.pk)).values_list("action", flat=True))
    assert {
        "intake.request.created",
        "intake.request.advanced",
        "intake.vote.approved",
        "intake.request.approved",
    } <= actions


def test_approvers_are_notified_when_the_request_reaches_them(cast):
    from apps.accounts.models import Notification

    req = request_at(cast, "decision")
    titles = set(
        Notification.objects.filter(user__in=[cast.alice, cast.bob]).values_list("title", flat=True)
    )
    assert titles == {f"Your decision is needed: {req.title}"}
    assert IntakeRequest.objects.get(pk=req.pk).stage == "decision"
