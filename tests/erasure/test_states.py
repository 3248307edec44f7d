"""An erasure request's pages and evidence tell the truth: an identifier reads "Erased" only
once its request is complete, the evidence runs in the order things happened, and every date
has one format (days as 2026-10-29, times as 2026-10-29 16:39 UTC)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from apps.erasure import services
from apps.erasure.models import ErasureRequest, ErasureTask, TaskStatus
from apps.tools.services import tool_create

from .conftest import person_with, verified

MONTH_NAME = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
CLOCK = re.compile(r"\d{2}:\d{2}(?P<seconds>:\d{2})?(?P<zone> UTC)?")


def _decisions(html: str) -> list[str]:
    return re.findall(r'data-testid="decision">([^<]*)<', html)


def _csv(client, request) -> list[list[str]]:
    exported = client.get(reverse("erasure:evidence_csv", args=[request.pk]))
    return list(csv.reader(io.StringIO(exported.content.decode())))


def _csv_decisions(client, request) -> list[str]:
    rows = _csv(client, request)
    start = rows.index(["identifier_type", "keyed_hash", "origin", "decision"])
    return [r[3] for r in rows[start + 1 :] if r]


def _text(html: str) -> str:
    """The page's words, without its markup, scripts and styles."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _zendesk(admin, owner=None):
    return tool_create(
        actor=admin,
        name="Zendesk",
        vendor="Zendesk",
        category="Support",
        data_categories=["contact"],
        technical_owner=owner or admin,
    )


def test_an_included_identifier_reads_will_be_erased_until_approval_and_erased_only_once_done(
    admin, client
):
    client.force_login(admin)
    _zendesk(admin)
    request = services.request_create(
        actor=admin, identifier="email:zoe@acme.example", channel="email", jurisdiction="gdpr"
    )
    detail = reverse("erasure:request_detail", args=[request.pk])
    evidence = reverse("erasure:evidence", args=[request.pk])

    def states() -> tuple[list[str], list[str], list[str]]:
        return (
            _decisions(client.get(detail).content.decode()),
            _decisions(client.get(evidence).content.decode()),
            _csv_decisions(client, request),
        )

    # logged, then verified: nothing is erased yet
    assert states() == (["Will be erased"],) * 3
    services.request_verify(actor=admin, request=request, note="Replied from the address")
    assert states() == (["Will be erased"],) * 3
    # approved: suppressed and erased here, the tools still to go
    services.request_approve(actor=admin, request=request)
    assert states() == (["Being erased"],) * 3
    # the last tool confirmed: complete
    [task] = ErasureTask.objects.filter(request=request)
    services.task_confirm(actor=admin, task=task, note="Deleted the end-user")
    assert ErasureRequest.objects.get(pk=request.pk).status == "completed"
    assert states() == (["Erased"],) * 3


def test_a_duplicate_request_s_identifier_reads_as_the_request_it_duplicates(admin, client):
    client.force_login(admin)
    first = verified(admin, "email:zoe@acme.example")
    again = services.request_create(
        actor=admin, identifier="email:zoe@acme.example", channel="phone", jurisdiction="gdpr"
    )
    assert again.duplicate_of == first
    page = client.get(reverse("erasure:request_detail", args=[again.pk])).content.decode()
    assert _decisions(page) == [f"Will be erased with {first.reference}"]


def test_the_evidence_lists_tools_in_the_order_they_finished_and_their_entries_in_time_order(
    admin, client
):
    client.force_login(admin)
    for name in ("Airtable", "Braze", "Zendesk"):
        tool_create(
            actor=admin,
            name=name,
            vendor=name,
            category="CRM",
            data_categories=["contact"],
            technical_owner=admin,
        )
    request = services.request_approve(actor=admin, request=verified(admin, "email:zoe@x.io"))
    airtable, braze, zendesk = ErasureTask.objects.filter(request=request).order_by("name")
    start = timezone.now() - dt.timedelta(days=3)
    # Zendesk finished first, then Airtable; Braze is still open
    ErasureTask.objects.filter(pk=zendesk.pk).update(
        status=TaskStatus.DONE, finished_at=start + dt.timedelta(hours=1)
    )
    later = {
        "at": (start + dt.timedelta(hours=4)).isoformat(),
        "what": "status",
        "http_status": 200,
        "state": "second-answer",
        "message": "",
    }
    sooner = {
        **later,
        "at": (start + dt.timedelta(hours=2)).isoformat(),
        "what": "erase",
        "state": "first-answer",
    }
    ErasureTask.objects.filter(pk=airtable.pk).update(
        status=TaskStatus.DONE, finished_at=start + dt.timedelta(hours=5), evidence=[later, sooner]
    )
    page = client.get(reverse("erasure:evidence", args=[request.pk])).content.decode()
    tools = page[page.index('data-testid="evidence-tasks"') :]
    order = [tools.index(f"<td>{name}</td>") for name in ("Zendesk", "Airtable", "Braze")]
    assert order == sorted(order)
    assert tools.index("first-answer") < tools.index("second-answer")
    # the CSV keeps the same order
    names = [r[0] for r in _csv(client, request) if r and r[0] in {"Airtable", "Braze", "Zendesk"}]
    assert names == ["Zendesk", "Airtable", "Braze"]
    assert not ErasureTask.objects.get(pk=braze.pk).finished_at


def test_the_request_page_evidence_and_csv_give_every_date_in_one_format(admin, client):
    client.force_login(admin)
    owner = person_with(admin, "erasure.view", name="Olga Owner")
    _zendesk(admin, owner)
    request = services.request_approve(actor=admin, request=verified(admin, "email:zoe@x.io"))
    [task] = ErasureTask.objects.filter(request=request)
    at = timezone.now() - dt.timedelta(hours=2)
    entry = {
        "at": at.isoformat(),
        "what": "erase",
        "http_status": 200,
        "state": "done",
        "receipt": "ok",
        "message": "",
    }
    ErasureTask.objects.filter(pk=task.pk).update(evidence=[entry])
    services.task_confirm(actor=owner, task=task, note="Deleted the end-user")
    request.refresh_from_db()
    assert request.status == "completed"
    stamp = timezone.localtime(request.completed_at).strftime("%Y-%m-%d %H:%M UTC")
    for name in ("erasure:request_detail", "erasure:evidence", "erasure:request_list"):
        args = [] if name == "erasure:request_list" else [request.pk]
        text = _text(client.get(reverse(name, args=args) + "?state=all").content.decode())
        assert not MONTH_NAME.search(text), (name, MONTH_NAME.search(text))
        assert not ISO_TIME.search(text), (name, ISO_TIME.search(text))
        # every time of day is given to the minute, with its zone
        for clock in CLOCK.finditer(text):
            assert not clock.group("seconds"), (name, clock)
            assert clock.group("zone"), (name, clock)
        if name != "erasure:request_list":
            assert stamp in text
    evidence = _text(client.get(reverse("erasure:evidence", args=[request.pk])).content.decode())
    assert timezone.localtime(at).strftime("%Y-%m-%d %H:%M UTC · erase") in evidence
    assert f"{request.retain_until:%Y-%m-%d}" in evidence
    header, row = _csv(client, request)[:2]
    exported = dict(zip(header, row, strict=True))
    assert exported["completed_at"] == stamp
    assert exported["approved_at"] == (
        timezone.localtime(request.approved_at).strftime("%Y-%m-%d %H:%M UTC")
    )
    assert exported["received_on"] == f"{request.received_on:%Y-%m-%d}"
    completed_on = timezone.localtime(request.completed_at).date()
    assert exported["kept_until"] == f"{completed_on + relativedelta(months=24)}"


def test_the_printed_evidence_has_its_heading_and_a_print_button(admin, client):
    client.force_login(admin)
    request = verified(admin, "email:zoe@x.io")
    page = client.get(reverse("erasure:evidence", args=[request.pk])).content.decode()
    # the document's own heading, in the part of the page that prints (the page header does not)
    printed = page[page.index("<main") :]
    heading = re.search(r'<h2 [^>]*data-testid="document-title">([^<]*)<', printed)
    assert heading
    assert heading.group(1) == f"Erasure evidence: {request.reference}"
    assert "d-print-none" not in heading.group(0)
    assert re.search(r"<button[^>]*data-print[^>]*>", page)
    assert "onclick" not in page


def test_the_api_gives_each_identifier_s_decision_as_its_request_stands(admin, admin_api):
    _zendesk(admin)
    request = verified(admin, "email:zoe@x.io")
    body = admin_api.get(f"/api/v1/erasure-requests/{request.pk}/").json()
    assert [(i["decision"], i["state_label"]) for i in body["identifiers"]] == [
        ("included", "Will be erased")
    ]
    services.request_approve(actor=admin, request=request)
    body = admin_api.get(f"/api/v1/erasure-requests/{request.pk}/").json()
    assert [i["state_label"] for i in body["identifiers"]] == ["Being erased"]
