"""The System stage shows what the registry already pays for, per proposed capability."""

from decimal import Decimal

import pytest

from apps.access import services as svc
from apps.accounts.models import User
from apps.intake import selectors, services
from apps.tools.services import tool_create
from tests.intake.conftest import request_at

pytestmark = pytest.mark.django_db


def _tool(admin, name, capabilities, status="active", cost=1000, currency="USD"):
    return tool_create(
        actor=admin,
        name=name,
        vendor=name,
        category="x",
        capabilities=capabilities,
        status=status,
        annual_cost=Decimal(cost),
        currency=currency,
    )


def test_overlap_lists_tools_in_use_for_each_proposed_capability(cast):
    _tool(cast.admin, "Braze", ["email_lifecycle", "push_sms"], cost=96000)
    _tool(cast.admin, "Customer.io", ["email_lifecycle"], cost=38000)
    _tool(cast.admin, "Mailchimp", ["email_lifecycle"], status="retired")
    _tool(cast.admin, "Iterable", ["email_lifecycle"], status="proposed")
    _tool(cast.admin, "Salesforce", ["crm"])
    req = request_at(cast, "system")
    req = services.intake_update(
        actor=cast.requester,
        request=req,
        proposed_capabilities=["email_lifecycle", "push_sms", "consent"],
    )

    overlaps = selectors.intake_overlap(user=cast.admin, request=req)

    assert [(o.capability, [t.name for t in o.tools]) for o in overlaps] == [
        ("email_lifecycle", ["Braze", "Customer.io"]),
        ("push_sms", ["Braze"]),
    ]
    assert overlaps[0].sentence == ("You already pay for 2 tools with email / lifecycle messaging")
    assert overlaps[1].sentence == "You already pay for 1 tool with push and SMS"
    assert overlaps[0].annual_cost == {"USD": Decimal("134000")}


def test_overlap_cost_is_added_per_currency(cast):
    _tool(cast.admin, "Braze", ["email_lifecycle"], cost=96000)
    _tool(cast.admin, "Brevo", ["email_lifecycle"], cost=9000, currency="EUR")
    _tool(cast.admin, "Customer.io", ["email_lifecycle"], cost=4000)
    req = request_at(cast, "system")
    req = services.intake_update(
        actor=cast.requester, request=req, proposed_capabilities=["email_lifecycle"]
    )
    (overlap,) = selectors.intake_overlap(user=cast.admin, request=req)
    assert overlap.annual_cost == {"USD": Decimal("100000"), "EUR": Decimal("9000")}


def test_costs_are_hidden_from_people_who_cannot_see_the_registry(cast):
    _tool(cast.admin, "Braze", ["push_sms"], cost=96000)
    req = request_at(cast, "system")
    (hidden,) = selectors.intake_overlap(user=cast.requester, request=req)
    assert [t.name for t in hidden.tools] == ["Braze"]
    assert hidden.annual_cost is None
    viewers = svc.role_create(actor=cast.admin, name="Registry", owner=cast.admin)
    svc.role_capability_set(actor=cast.admin, role=viewers, capability="tools.view")
    svc.role_assign(actor=cast.admin, user=cast.requester, role=viewers)
    fresh = User.objects.get(pk=cast.requester.pk)  # capabilities are cached per object
    (shown,) = selectors.intake_overlap(user=fresh, request=req)
    assert shown.annual_cost == {"USD": Decimal("96000")}


def test_the_request_page_shows_the_overlap_sentence(cast, client):
    _tool(cast.admin, "Braze", ["push_sms"])
    _tool(cast.admin, "Airship", ["push_sms"])
    req = request_at(cast, "system")
    client.force_login(cast.requester)
    page = client.get(f"/intake/{req.pk}/")
    assert "You already pay for 2 tools with push and SMS:" in page.content.decode()


def test_the_tool_an_approved_request_brought_in_is_not_its_own_overlap(cast):
    _tool(cast.admin, "Braze", ["push_sms"])
    req = request_at(cast, "decision", approvers=[cast.alice])
    services.intake_vote(actor=cast.alice, request=req, verdict="approve", comment="Go.")
    req.refresh_from_db()
    assert req.tool.name == "OneSignal"
    (overlap,) = selectors.intake_overlap(user=cast.admin, request=req)
    assert [t.name for t in overlap.tools] == ["Braze"]
