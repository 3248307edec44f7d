"""Importing an inventory that matches the registry changes nothing and says so."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.tools.inventory import tools_export_csv
from apps.tools.models import Tool
from apps.tools.services import tool_create, tool_update

pytestmark = pytest.mark.django_db


def _registry(admin):
    tool_create(
        actor=admin,
        name="Snowflake",
        vendor="Snowflake",
        category="Warehouse",
        capabilities=["warehouse"],
        annual_cost=Decimal("120000"),
        currency="usd",
        seats_bought=10,
        renewal_date=dt.date(2027, 3, 31),
        business_owner=admin,
        data_categories=["contact"],
        notes="=SUM(A1)",
    )
    tool_create(
        actor=admin,
        name="Braze",
        vendor="Braze",
        category="Messaging",
        capabilities=["email_lifecycle"],
        auto_renew=True,
    )


def test_reimporting_the_unchanged_export_counts_unchanged_rows_and_audits_nothing(
    admin, admin_client
):
    # given the registry's own export
    _registry(admin)
    exported = admin_client.get(reverse("tools:tool_export")).content.decode()
    audited = AuditEvent.objects.count()

    # when it is imported again as it is
    page = admin_client.post(reverse("tools:tool_import"), {"text": exported})

    # then
    assert page.status_code == 200
    report = page.context["report"]
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 0, 0, 2)
    assert "0 new tools, 0 updated, 2 unchanged" in page.content.decode()
    assert AuditEvent.objects.count() == audited


def test_an_import_counts_only_the_rows_that_change_as_updated(admin, admin_api):
    _registry(admin)
    text = tools_export_csv(user=admin)

    answer = admin_api.post(
        "/api/v1/tools/import/", {"csv": text.replace("120000.00", "125000.00")}, format="json"
    )

    body = answer.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 1)
    changed = AuditEvent.objects.filter(action="tools.tool.updated")
    assert [event.changes for event in changed] == [
        {"annual_cost": {"before": "120000.00", "after": "125000.00"}}
    ]
    assert Tool.objects.get(name="Snowflake").annual_cost == Decimal("125000")


def test_saving_a_tool_with_the_same_facts_writes_no_audit_record(admin):
    _registry(admin)
    tool = Tool.objects.get(name="Braze")

    tool_update(
        actor=admin, tool=tool, notes=tool.notes, auto_renew=True, currency=tool.currency.lower()
    )

    assert not AuditEvent.objects.filter(action="tools.tool.updated").exists()
