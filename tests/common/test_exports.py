"""CSV cells that a spreadsheet would run as formulas are defused, in every export the console
writes, and the tool registry's export still imports back unchanged."""

import base64
import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from apps.consent.defaults import ensure_default_purposes
from apps.erasure import services as erasure
from apps.erasure.models import ErasureTask
from apps.events import services as events
from apps.events.pipeline import process_waiting
from apps.tools.inventory import tools_import_csv
from apps.tools.models import Tool
from apps.tools.services import tool_create
from martech.common.exports import csv_cell, csv_text, csv_value
from tests.erasure.conftest import verified

EVIL_NAME = '=HYPERLINK("http://evil.example","x")'
EVIL_VENDOR = "+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM", "'@SUM"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1+1", "'  =1+1"),
        ("\n@x", "'\n@x"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("'=1", "''=1"),
        ("'quoted", "'quoted"),
        ("newsletter", "newsletter"),
        ("a-b", "a-b"),
        (42, 42),
        (Decimal("-12.5"), Decimal("-12.5")),
        (None, ""),
        ("", ""),
    ],
)
def test_formula_like_text_is_prefixed_and_the_rest_is_unchanged(value, expected):
    assert csv_cell(value) == expected


def test_numbers_stay_numbers_and_text_is_quoted():
    text = csv_text([["cost", "note"], [Decimal("-12.5"), "-12.5"], [3, "a;=1+1"]])
    assert text.splitlines() == ['"cost","note"', '-12.5,"\'-12.5"', '3,"a;=1+1"']


@given(st.text())
def test_reading_a_cell_back_gives_the_text_that_was_exported(text):
    assert csv_value(csv_cell(text)) == text


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
def test_the_tool_export_escapes_formulas_and_imports_back_unchanged(admin, admin_client):
    # given a tool whose name and vendor are formulas
    tool_create(
        actor=admin,
        name=EVIL_NAME,
        vendor=EVIL_VENDOR,
        category="@Analytics",
        notes="-2+3",
        annual_cost=Decimal("1200.50"),
    )
    # when the registry is exported
    response = admin_client.get(reverse("tools:tool_export"))
    # then every formula-like cell starts with an apostrophe, and the cost is a number
    header, row = _rows(response)
    cells = dict(zip(header, row, strict=True))
    assert cells["name"] == "'" + EVIL_NAME
    assert cells["vendor"] == "'" + EVIL_VENDOR
    assert cells["category"] == "'@Analytics"
    assert cells["notes"] == "'-2+3"
    assert "1200.50," in response.content.decode()  # unquoted: a number
    # and importing the export back changes nothing
    report = tools_import_csv(actor=admin, text=response.content.decode())
    assert (report.ok, report.created, report.updated, report.unchanged) == (True, 0, 0, 1), (
        report.errors
    )
    tool = Tool.objects.get()
    assert (tool.name, tool.vendor, tool.category, tool.notes) == (
        EVIL_NAME,
        EVIL_VENDOR,
        "@Analytics",
        "-2+3",
    )


@pytest.mark.django_db
def test_the_erasure_evidence_csv_escapes_task_names_errors_and_confirmations(admin, admin_client):
    # given a request whose task names a formula-named tool and holds formula-like vendor text
    ensure_default_purposes()
    tool_create(
        actor=admin, name=EVIL_NAME, vendor=EVIL_VENDOR, category="CRM", data_categories=["contact"]
    )
    request = erasure.request_approve(
        actor=admin, request=verified(admin, "email:zoe@acme.example")
    )
    ErasureTask.objects.filter(request=request).update(
        last_error="@SUM(1+1)*cmd|' /C calc'!A0", confirmation="=1+1", receipt="+receipt"
    )
    # when the evidence is exported
    response = admin_client.get(reverse("erasure:evidence_csv", args=[request.pk]))
    # then each of those cells is escaped
    assert response.status_code == 200
    rows = _rows(response)
    header = next(r for r in rows if r and r[0] == "tool")
    task = dict(zip(header, next(r for r in rows if r and r[0] == "'" + EVIL_NAME), strict=True))
    assert task["last_error"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert task["confirmation"] == "'=1+1"
    assert task["receipt"] == "'+receipt"
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.django_db
def test_the_attribution_csv_escapes_a_campaign_named_like_a_formula(client, admin, admin_client):
    # given a visit from a campaign whose name is a formula
    ensure_default_purposes()
    _, raw = events.source_create(actor=admin, name="Web", allowed_origins=[])
    url = "https://www.acme.example/?utm_medium=email&utm_source=news&utm_campaign=%3Dcmd%7C1"
    message = {
        "type": "page",
        "anonymousId": "ajs-1",
        "messageId": "m1",
        "context": {"page": {"url": url}},
    }
    basic = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    client.post(
        "/v1/page", json.dumps(message), content_type="application/json", HTTP_AUTHORIZATION=basic
    )
    assert process_waiting() == 1
    # when the report is exported by campaign
    response = admin_client.get(
        reverse("events:attribution"), {"dimension": "campaign", "format": "csv"}
    )
    # then the campaign is escaped and the counts are numbers
    assert _rows(response)[1] == ["'=cmd|1", "1", "1"]
    assert response.content.decode().splitlines()[1] == '"\'=cmd|1",1,1'


def test_no_module_writes_csv_except_through_the_shared_helper():
    """A new export cannot forget the escaping: only martech/common/exports.py may build a
    CSV writer or a text/csv response."""
    root = Path(settings.BASE_DIR)
    helper = root / "martech" / "common" / "exports.py"
    writers = re.compile(r"csv\.(writer|DictWriter)\(|text/csv")
    offenders = [
        str(path.relative_to(root))
        for folder in ("apps", "martech")
        for path in (root / folder).rglob("*.py")
        if path != helper and writers.search(path.read_text())
    ]
    assert offenders == []
