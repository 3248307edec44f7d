"""Writes of the tool registry, each audited in the same transaction."""

from __future__ import annotations

from django.db import transaction

from apps.access.rules import require
from apps.audit.services import audit_diff, audit_record, audit_snapshot
from apps.tools.errors import ToolsErrorCode
from martech.common.currencies import normalise_currency
from martech.common.errors import ApplicationError, ConflictError

from .choices import DataCategory, ToolCapability, ToolStatus
from .models import Tool
from .rules import tool_problems

FIELDS = (
    "vendor",
    "name",
    "category",
    "capabilities",
    "business_owner",
    "technical_owner",
    "team",
    "status",
    "annual_cost",
    "currency",
    "seats_bought",
    "seats_used",
    "contract_start",
    "renewal_date",
    "notice_period_days",
    "auto_renew",
    "data_categories",
    "dpa_on_file",
    "has_deletion_api",
    "notes",
)


def _validate(tool: Tool) -> None:
    """Refuse a tool that breaks any rule, naming every broken rule at once.

    A name already registered is a conflict (409) when it is the only problem.
    """
    tool.currency = normalise_currency(tool.currency)
    problems = tool_problems({f: getattr(tool, f) for f in FIELDS}, pk=tool.pk)
    if not problems:
        return
    if len(problems) == 1 and problems[0].code == ToolsErrorCode.TOOL_EXISTS:
        raise ConflictError(problems[0].message, code=ToolsErrorCode.TOOL_EXISTS)
    fields: dict[str, list[str]] = {}
    for problem in problems:
        fields.setdefault(problem.field, []).append(problem.message)
    details: dict = {"fields": fields}
    if ToolsErrorCode.UNKNOWN_CAPABILITY in (p.code for p in problems):
        details["capabilities"] = [c for c in tool.capabilities if c not in ToolCapability.values]
    if ToolsErrorCode.UNKNOWN_DATA_CATEGORY in (p.code for p in problems):
        details["data_categories"] = [
            c for c in tool.data_categories if c not in DataCategory.values
        ]
    raise ApplicationError(
        " ".join(p.message for p in problems),
        code=problems[0].code if len(problems) == 1 else ToolsErrorCode.INVALID,
        details=details,
    )


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
    """Change a tool's facts; the audit record keeps before and after.

    Changes that leave every fact as it was save nothing and write no audit record."""
    require(actor, "tools.manage", "edit tools")
    tool = Tool.objects.select_for_update().get(pk=tool.pk)
    before = audit_snapshot(tool, FIELDS)
    for key, value in changes.items():
        if key not in FIELDS:
            raise ValueError(key)
        setattr(tool, key, value)
    _validate(tool)
    after = audit_snapshot(tool, FIELDS)
    if not audit_diff(before, after):
        return tool
    tool.save()
    audit_record(action="tools.tool.updated", target=tool, before=before, after=after)
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
