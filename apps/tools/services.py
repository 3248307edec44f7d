"""Writes of the tool registry, each audited in the same transaction."""

from __future__ import annotations

from django.db import transaction

from apps.accounts.access import require
from apps.audit.services import audit_record, audit_snapshot
from martech.common.errors import ApplicationError, ConflictError

from .choices import DataCategory, ToolCapability, ToolStatus
from .models import Tool

FIELDS = (
    "vendor", "name", "category", "capabilities", "business_owner", "technical_owner", "team",
    "status", "annual_cost", "currency", "seats_bought", "seats_used", "contract_start",
    "renewal_date", "notice_period_days", "auto_renew", "data_categories", "dpa_on_file",
    "has_deletion_api", "notes",
)  # fmt: skip


def _validate(tool: Tool) -> None:
    unknown = [c for c in tool.capabilities or [] if c not in ToolCapability.values]
    if unknown:
        raise ApplicationError(
            f"Unknown capability: {', '.join(unknown)}.",
            code="unknown_capability",
            details={"capabilities": unknown},
        )
    unknown = [c for c in tool.data_categories or [] if c not in DataCategory.values]
    if unknown:
        raise ApplicationError(
            f"Unknown data category: {', '.join(unknown)}.",
            code="unknown_data_category",
            details={"data_categories": unknown},
        )
    if tool.annual_cost is not None and tool.annual_cost < 0:
        raise ApplicationError("Annual cost cannot be negative.", code="negative_cost")
    if (
        tool.seats_bought is not None
        and tool.seats_used is not None
        and tool.seats_used > tool.seats_bought * 10
    ):
        raise ApplicationError("Seats used is implausibly above seats bought.", code="seats")
    if tool.renewal_date and tool.contract_start and tool.renewal_date < tool.contract_start:
        raise ApplicationError("The renewal date is before the contract start.", code="dates")
    if not tool.currency or len(tool.currency) != 3 or not tool.currency.isalpha():
        raise ApplicationError("Use a three-letter currency code, e.g. USD.", code="currency")
    tool.currency = tool.currency.upper()
    if Tool.objects.filter(name__iexact=tool.name).exclude(pk=tool.pk).exists():
        raise ConflictError(f"A tool named {tool.name} is already registered.", code="tool_exists")


@transaction.atomic
def tool_create(*, actor, **fields) -> Tool:
    """Register a tool."""
    require(actor, "tools.manage", "register tools")
    tool = Tool(**fields)
    _validate(tool)
    tool.save()
    audit_record(action="tools.tool.created", target=tool, after=audit_snapshot(tool, FIELDS))
    return tool


@transaction.atomic
def tool_update(*, actor, tool: Tool, **changes) -> Tool:
    """Change a tool's facts; the audit record keeps before and after."""
    require(actor, "tools.manage", "edit tools")
    tool = Tool.objects.select_for_update().get(pk=tool.pk)
    before = audit_snapshot(tool, FIELDS)
    for key, value in changes.items():
        if key not in FIELDS:
            raise ValueError(key)
        setattr(tool, key, value)
    _validate(tool)
    tool.save()
    audit_record(
        action="tools.tool.updated", target=tool, before=before, after=audit_snapshot(tool, FIELDS)
    )
    return tool


@transaction.atomic
def tool_adopt_from_intake(
    *, intake_request_id: int, existing: Tool | None = None, **fields
) -> Tool:
    """Bring a tool in as ``evaluating`` because an intake request was approved.

    The approvers' decision is the authority, so no registry capability is asked of the
    person whose vote completed it. An ``existing`` registry entry that is proposed or
    retired moves to evaluating; one already in use is left as it is.
    """
    metadata = {"intake_request": intake_request_id}
    if existing is None:
        existing = Tool.objects.filter(name__iexact=fields["name"]).first()
    if existing is not None:
        tool = Tool.objects.select_for_update().get(pk=existing.pk)
        if tool.status in (ToolStatus.PROPOSED, ToolStatus.RETIRED):
            before = audit_snapshot(tool, FIELDS)
            tool.status = ToolStatus.EVALUATING
            tool.save()
            audit_record(
                action="tools.tool.updated",
                target=tool,
                before=before,
                after=audit_snapshot(tool, FIELDS),
                metadata=metadata,
            )
        return tool
    tool = Tool(status=ToolStatus.EVALUATING, **fields)
    _validate(tool)
    tool.save()
    audit_record(
        action="tools.tool.created",
        target=tool,
        after=audit_snapshot(tool, FIELDS),
        metadata=metadata,
    )
    return tool
