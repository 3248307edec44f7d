"""Erasure asks the destinations that may hold the person's data: every enabled one, and a
disabled one that ever received anything (a delivery record, a sync row state or a sync run).
A destination that never received data gets no task and no call with the person's
identifiers; the request page, the evidence and its CSV say it was not asked, and why."""

from __future__ import annotations

import csv
import io

from apps.audit.models import AuditEvent
from apps.destinations.choices import DeliveryStatus
from apps.destinations.models import Delivery
from apps.erasure import services
from apps.erasure.models import TaskStatus
from apps.erasure.propagation import due_tasks, propagate
from apps.syncs.models import SqlModel, Sync, SyncRow, SyncRun, Warehouse
from apps.tools.services import tool_create
from tests.destinations.vendors import FakeVendor

from .conftest import destination_at, verified


def _run_due() -> None:
    for pk in list(due_tasks().values_list("pk", flat=True)):
        propagate(pk)


def _decide_matches(admin, request) -> None:
    for maybe in request.identifiers.filter(decision="pending"):
        services.identifier_decide(actor=admin, identifier=maybe, include=False)


def _a_sync(destination, name="People to CRM"):
    warehouse = Warehouse.objects.create(name=f"{name} warehouse", kind="postgres")
    model = SqlModel.objects.create(
        name=f"{name} model", warehouse=warehouse, primary_key="id", sql="SELECT 1 AS id"
    )
    return Sync.objects.create(
        name=name,
        model=model,
        destination=destination,
        object="contacts",
        subject_column="email",
        subject_type="email",
    )


def test_a_disabled_destination_that_never_received_data_gets_no_task_and_no_call(admin, ana, tool):
    with FakeVendor("webhook") as hook:
        destination_at(admin, tool, hook, name="Never used", is_enabled=False)
        request = services.request_approve(actor=admin, request=verified(admin))
        _decide_matches(admin, request)
        _run_due()
        assert hook.requests == []
    assert not request.tasks.exists()
    request.refresh_from_db()
    assert request.not_asked == [{"destination": "Never used", "reason": services.NEVER_RECEIVED}]
    approved = AuditEvent.objects.get(action="erasure.request.approved")
    assert approved.metadata["not_asked"] == ["Never used"]


def test_a_disabled_destination_with_a_past_delivery_gets_the_erasure_call(admin, ana, tool):
    """Disabling a destination stops new data, not what it already holds about the person;
    a delivery of someone else is enough (any delivery record counts)."""
    with FakeVendor("webhook") as hook:
        used = destination_at(admin, tool, hook, name="Used once", is_enabled=False)
        Delivery.objects.create(
            destination=used, subject="user_id:someone-else", status=DeliveryStatus.DELIVERED
        )
        request = services.request_approve(actor=admin, request=verified(admin))
        _decide_matches(admin, request)
        _run_due()
        assert [r.path for r in hook.requests] == ["/hooks/martech/erasure"] * 2
    assert [(t.name, t.status) for t in request.tasks.all()] == [("Used once", TaskStatus.DONE)]
    request.refresh_from_db()
    assert request.not_asked == []


def test_a_disabled_destination_whose_only_delivery_was_the_persons_is_still_asked(
    admin, ana, tool
):
    """The local erasure scrubs the person's deliveries and deletes their sync row states in
    the same approval: which destinations received data is read before it."""
    with FakeVendor("webhook") as hook:
        synced = destination_at(admin, tool, hook, name="Synced", is_enabled=False)
        delivered = destination_at(admin, tool, hook, name="Delivered", is_enabled=False)
        SyncRow.objects.create(sync=_a_sync(synced), key="1", subject="email:ana@acme.example")
        Delivery.objects.create(
            destination=delivered, subject="user_id:cus_1", status=DeliveryStatus.DELIVERED
        )
        request = services.request_approve(actor=admin, request=verified(admin))
    assert sorted(request.tasks.values_list("name", flat=True)) == ["Delivered", "Synced"]
    assert not SyncRow.objects.exists()  # erased here, after the tasks were decided


def test_a_disabled_destination_a_sync_ran_to_gets_a_task_but_not_after_a_dry_run(admin, tool):
    with FakeVendor("webhook") as hook:
        ran = destination_at(admin, tool, hook, name="Sync ran", is_enabled=False)
        dry = destination_at(admin, tool, hook, name="Dry run only", is_enabled=False)
        SyncRun.objects.create(sync=_a_sync(ran, "Real"), mode="upsert", dry_run=False)
        SyncRun.objects.create(sync=_a_sync(dry, "Preview"), mode="upsert", dry_run=True)
        request = services.request_approve(actor=admin, request=verified(admin))
    assert list(request.tasks.values_list("name", flat=True)) == ["Sync ran"]
    assert [n["destination"] for n in request.not_asked] == ["Dry run only"]


def test_an_enabled_destination_is_asked_even_before_its_first_delivery(admin, tool):
    with FakeVendor("webhook") as hook:
        destination_at(admin, tool, hook, name="Just enabled", is_enabled=True)
        request = services.request_approve(actor=admin, request=verified(admin))
    assert list(request.tasks.values_list("name", flat=True)) == ["Just enabled"]
    assert request.not_asked == []


def test_the_tool_of_an_unused_destination_is_still_asked_when_it_holds_personal_data(admin):
    crm = tool_create(
        actor=admin, name="CRM", vendor="Acme", category="CRM", data_categories=["contact"]
    )
    with FakeVendor("webhook") as hook:
        destination_at(admin, crm, hook, name="CRM hook", is_enabled=False)
        request = services.request_approve(actor=admin, request=verified(admin))
    task = request.tasks.get()
    assert (task.name, task.destination_id, task.status) == ("CRM", None, TaskStatus.MANUAL)


def test_the_request_page_and_the_evidence_say_which_destinations_were_not_asked_and_why(
    admin, client, tool
):
    with FakeVendor("webhook") as hook:
        destination_at(admin, tool, hook, name="Never used", is_enabled=False)
        request = services.request_approve(actor=admin, request=verified(admin))
    client.force_login(admin)
    for url in (f"/erasure/{request.pk}/", f"/erasure/{request.pk}/evidence/"):
        page = client.get(url).content.decode()
        assert "Never used" in page, url
        assert "never received data" in page, url
    answer = client.get(f"/erasure/{request.pk}/evidence.csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert ["destination_not_asked", "reason"] in rows
    assert ["Never used", services.NEVER_RECEIVED] in rows
