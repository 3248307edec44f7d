"""CSV export of the registry, and import of an existing inventory with a per-row report.

The columns are the same both ways, so an export can be edited and imported back (the
apostrophe the export puts before formula-like text is taken off again on import). Lists
(capabilities, data categories) are separated by semicolons; owners are given by email.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction

from apps.access.rules import require
from apps.accounts.models import User
from apps.audit.services import audit_diff, audit_snapshot
from apps.tools.errors import ToolsErrorCode
from martech.common.errors import ApplicationError
from martech.common.exports import csv_text, csv_value

from .models import Tool
from .services import FIELDS, tool_create, tool_update

COLUMNS = [
    "name",
    "vendor",
    "category",
    "capabilities",
    "status",
    "business_owner_email",
    "technical_owner_email",
    "team",
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
]
REQUIRED = {"name", "vendor", "category"}
MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024


def tools_export_rows(*, user) -> list[list]:
    """Return the registry as rows for a CSV export, the header first."""
    require(user, "tools.view", "export the tool registry")
    tools = Tool.objects.select_related("business_owner", "technical_owner").order_by("name")
    return [COLUMNS, *([_export_row(tool)[c] for c in COLUMNS] for tool in tools)]


def tools_export_csv(*, user) -> str:
    """Return the registry as CSV text (cells a spreadsheet would run are escaped)."""
    return csv_text(tools_export_rows(user=user))


def _export_row(tool: Tool) -> dict:
    return {
        "name": tool.name,
        "vendor": tool.vendor,
        "category": tool.category,
        "capabilities": ";".join(tool.capabilities or []),
        "status": tool.status,
        "business_owner_email": tool.business_owner.email if tool.business_owner else "",
        "technical_owner_email": tool.technical_owner.email if tool.technical_owner else "",
        "team": tool.team,
        "annual_cost": tool.annual_cost,
        "currency": tool.currency,
        "seats_bought": "" if tool.seats_bought is None else tool.seats_bought,
        "seats_used": "" if tool.seats_used is None else tool.seats_used,
        "contract_start": tool.contract_start or "",
        "renewal_date": tool.renewal_date or "",
        "notice_period_days": tool.notice_period_days,
        "auto_renew": "yes" if tool.auto_renew else "no",
        "data_categories": ";".join(tool.data_categories or []),
        "dpa_on_file": "yes" if tool.dpa_on_file else "no",
        "has_deletion_api": "yes" if tool.has_deletion_api else "no",
        "notes": tool.notes,
    }


@dataclass
class RowError:
    row: int  # line number in the file, the header being line 1
    name: str
    field: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Abort(Exception):
    pass


def _messages(value) -> list[str]:
    """Flatten DRF's nested error structures into plain sentences."""
    if isinstance(value, dict):
        return [m for inner in value.values() for m in _messages(inner)]
    if isinstance(value, list | tuple):
        return [m for inner in value for m in _messages(inner)]
    return [str(value)]


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").replace(",", ";").split(";") if part.strip()]


def _row_data(row: dict, emails: dict[str, User]) -> tuple[dict, list[tuple[str, str]]]:
    """Turn one CSV row into serializer input and the errors found on the way."""
    errors, data = [], {}
    for column in REQUIRED:
        if not (row.get(column) or "").strip():
            errors.append((column, "This column is required."))
    for column in ("name", "vendor", "category", "team", "currency", "notes", "status"):
        if (row.get(column) or "").strip():
            data[column] = row[column].strip()
    for column in ("capabilities", "data_categories"):
        data[column] = _split(row.get(column, ""))
    for column in (
        "annual_cost",
        "seats_bought",
        "seats_used",
        "notice_period_days",
        "contract_start",
        "renewal_date",
    ):
        value = (row.get(column) or "").strip()
        if value:
            data[column] = value.replace(",", "") if column == "annual_cost" else value
    for column in ("auto_renew", "dpa_on_file", "has_deletion_api"):
        value = (row.get(column) or "").strip().lower()
        if value in {"yes", "y", "true", "1"}:
            data[column] = True
        elif value in {"no", "n", "false", "0"}:
            data[column] = False
        elif value:
            errors.append((column, "Use yes or no."))
    for column, target in (
        ("business_owner_email", "business_owner"),
        ("technical_owner_email", "technical_owner"),
    ):
        email = (row.get(column) or "").strip().lower()
        if email:
            person = emails.get(email)
            if person is None:
                errors.append((column, f"No active person with the email {email}."))
            else:
                data[target] = person.pk
    return data, errors


def tools_import_csv(*, actor, text: str) -> ImportReport:
    """Import an inventory: every row is checked; nothing is saved unless all rows are valid.

    A row whose name matches a registered tool (any case) updates it; other rows create
    tools. Each change is audited as the actor's; a row that changes nothing is counted as
    unchanged and leaves no audit record.
    """
    from .api.serializers import ToolSerializer

    require(actor, "tools.manage", "import an inventory")
    if len(text.encode()) > MAX_BYTES:
        raise ApplicationError("The file is larger than 2 MB.", code=ToolsErrorCode.FILE_TOO_LARGE)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise ApplicationError(
            f"The file is not valid CSV: {exc}.", code=ToolsErrorCode.INVALID_CSV
        ) from exc
    missing = sorted(REQUIRED - set(fieldnames or []))
    if missing:
        raise ApplicationError(
            f"The file has no {', '.join(missing)} column. Expected columns: {', '.join(COLUMNS)}.",
            code=ToolsErrorCode.MISSING_COLUMNS,
            details={"missing": missing},
        )
    emails = {u.email.lower(): u for u in User.objects.filter(is_active=True)}
    report = ImportReport()
    seen: dict[str, int] = {}
    try:
        with transaction.atomic():
            for line, cells in enumerate(reader, start=2):
                # an exported cell that a spreadsheet would run carries an apostrophe
                row = {k: csv_value(v) if isinstance(v, str) else v for k, v in cells.items()}
                report.rows += 1
                if report.rows > MAX_ROWS:
                    raise ApplicationError(
                        f"Import at most {MAX_ROWS} rows at a time.",
                        code=ToolsErrorCode.TOO_MANY_ROWS,
                    )
                name = (row.get("name") or "").strip()
                data, problems = _row_data(row, emails)
                if name.lower() in seen:
                    problems.append(("name", f"Repeats line {seen[name.lower()]}."))
                seen.setdefault(name.lower(), line)
                existing = Tool.objects.filter(name__iexact=name).first() if name else None
                serializer = ToolSerializer(existing, data=data, partial=existing is not None)
                if not serializer.is_valid():
                    for column, messages in serializer.errors.items():
                        problems.append((column, " ".join(_messages(messages))))
                if problems:
                    report.errors += [RowError(line, name, c, m) for c, m in problems]
                    continue
                try:
                    if existing is None:
                        tool_create(actor=actor, **serializer.validated_data)
                        report.created += 1
                    else:
                        before = audit_snapshot(existing, FIELDS)
                        tool = tool_update(actor=actor, tool=existing, **serializer.validated_data)
                        if audit_diff(before, audit_snapshot(tool, FIELDS)):
                            report.updated += 1
                        else:
                            report.unchanged += 1
                except ApplicationError as exc:
                    report.errors.append(RowError(line, name, "row", exc.message))
            if report.errors:
                raise _Abort
    except _Abort:
        report.created = report.updated = report.unchanged = 0
    except csv.Error as exc:
        raise ApplicationError(
            f"The file is not valid CSV after line {report.rows + 1}: {exc}.",
            code=ToolsErrorCode.INVALID_CSV,
        ) from exc
    return report
