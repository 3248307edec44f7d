"""Propagation to every tool: deletion APIs through the destinations' adapters (vendors that
erase later are polled until they confirm), manual tasks for tools without one, retries with
backoff while a vendor is down, completion, deadline alerts, and suppression on every path."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.models import Notification
from apps.destinations import services as destinations
from apps.erasure import alerts, services
from apps.erasure.models import RequestStatus, TaskStatus
from apps.erasure.propagation import due_tasks, propagate
from apps.tools.services import tool_create
from tests.destinations.vendors import FakeVendor

from .conftest import destination_at, person_with, verified


def run_due() -> None:
    """What the dispatcher and the workers do: each due task once."""
    for pk in list(due_tasks().values_list("pk", flat=True)):
        propagate(pk)


def _decide_matches(admin, request) -> None:
    for maybe in request.identifiers.filter(decision="pending"):
        services.identifier_decide(actor=admin, identifier=maybe, include=False)


def test_every_destination_gets_the_deletion_call_and_tools_without_one_a_manual_task(
    admin, ana, tool
):
    owner = person_with(admin, "erasure.view", name="Olga Owner")
    tool_create(
        actor=admin,
        name="Zendesk",
        vendor="Zendesk",
        category="Support",
        data_categories=["contact"],
        technical_owner=owner,
    )
    with (
        FakeVendor("webhook") as hook,
        FakeVendor("hubspot") as hubspot,
        FakeVendor("amplitude") as amplitude,
    ):
        destination_at(admin, tool, hook)
        destination_at(admin, tool, hubspot)
        destination_at(admin, tool, amplitude)
        request = services.request_approve(actor=admin, request=verified(admin))
        _decide_matches(admin, request)
        tasks = {t.name: t for t in request.tasks.all()}
        assert set(tasks) == {"webhook sink", "hubspot sink", "amplitude sink", "Zendesk"}
        assert tasks["Zendesk"].status == TaskStatus.MANUAL
        assert tasks["Zendesk"].assignee == owner
        assert Notification.objects.filter(user=owner, title__contains="Zendesk").exists()

        run_due()

        # the webhook got every identifier in signed calls (one of each type a call: Ana has
        # two anonymous ids, so two calls); HubSpot the email
        erase, again = [r for r in hook.requests if r.path == "/hooks/martech/erasure"]
        assert erase.body["identifiers"]["user_id"] == "cus_1"
        assert erase.body["identifiers"]["email"] == "ana@acme.example"
        assert again.body["identifiers"].keys() == {"anonymous_id"}
        [gdpr] = [r for r in hubspot.requests if r.path.endswith("/gdpr-delete")]
        assert gdpr.body == {"objectId": "ana@acme.example", "idProperty": "email"}
        # Amplitude schedules its deletion: the task waits and asks again later
        amp = request.tasks.get(name="amplitude sink")
        assert amp.status == TaskStatus.AWAITING_VENDOR
        assert amp.receipt
        request.refresh_from_db()
        assert request.status == RequestStatus.IN_PROGRESS

        with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
            run_due()  # still staging
            assert request.tasks.get(name="amplitude sink").status == TaskStatus.AWAITING_VENDOR
            amplitude.erasures_done = True
        with time_machine.travel(timezone.now() + dt.timedelta(hours=4)):
            run_due()
        assert request.tasks.get(name="amplitude sink").status == TaskStatus.DONE
        polls = [r for r in amplitude.requests if r.method == "GET"]
        assert len(polls) == 2

    # the owner confirms the manual one: the request is complete
    services.task_confirm(actor=owner, task=tasks["Zendesk"], note="Deleted the end-user")
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert {t.status for t in request.tasks.all()} == {TaskStatus.DONE}


def test_a_webhook_that_erases_later_is_polled_until_it_confirms(admin, ana, tool):
    with FakeVendor("webhook") as hook:
        hook.erases_later = True
        destination_at(admin, tool, hook)
        request = services.request_approve(actor=admin, request=verified(admin))
        _decide_matches(admin, request)
        run_due()
        task = request.tasks.get()
        assert task.status == TaskStatus.AWAITING_VENDOR
        assert "/erasure/status/" in task.receipt
        hook.erasures_done = True
        with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
            run_due()
        checks = [r for r in hook.requests if r.method == "GET"]
    assert len(checks) == 2  # one status URL for each of the two calls (two anonymous ids)
    assert request.tasks.get().status == TaskStatus.DONE
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED


def test_a_destination_down_for_a_day_is_retried_with_backoff_and_completes(admin, ana, tool):
    with FakeVendor("webhook") as hook, FakeVendor("hubspot") as hubspot:
        destination_at(admin, tool, hook)
        destination_at(admin, tool, hubspot)
        hook.down = True
        request = services.request_approve(actor=admin, request=verified(admin))
        _decide_matches(admin, request)
        run_due()
        task = request.tasks.get(name="webhook sink")
        assert task.status == TaskStatus.PENDING
        assert "503" in task.last_error
        assert task.next_attempt_at > timezone.now() + dt.timedelta(seconds=29)
        assert request.tasks.get(name="hubspot sink").status == TaskStatus.DONE
        start = timezone.now()
        for hours in range(1, 25):  # a day of the dispatcher running, the vendor still down
            with time_machine.travel(start + dt.timedelta(hours=hours)):
                run_due()
        task.refresh_from_db()
        assert task.status == TaskStatus.PENDING
        assert task.attempts > 3
        hook.down = False
        with time_machine.travel(start + dt.timedelta(days=2)):
            run_due()
        erasures = [r for r in hook.requests if r.path == "/hooks/martech/erasure"]
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert len(erasures) == 2 * task.attempts  # two calls an attempt: two anonymous ids
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED


def test_a_refusal_fails_the_task_alerts_and_can_be_retried_alone(admin, ana, tool):
    with FakeVendor("webhook") as hook:
        destination_at(admin, tool, hook)
        hook.fail_next(1, 400, {"error": "unknown subject format"})
        request = services.request_approve(actor=admin, request=verified(admin))
        _decide_matches(admin, request)
        run_due()
        task = request.tasks.get()
        assert task.status == TaskStatus.FAILED
        assert task.last_error == "HTTP 400: the vendor refused the erasure."
        assert Notification.objects.filter(title__contains="webhook sink failed").exists()
        services.task_retry(actor=admin, task=task)
        run_due()
    assert request.tasks.get().status == TaskStatus.DONE


def test_the_person_is_suppressed_on_every_path_after_approval(admin, ana, tool, client):
    """Collection, routing, dead-letter replay and reverse ETL all refuse the person."""
    import base64
    import json

    from apps.destinations.choices import DeliveryStatus
    from apps.destinations.models import Delivery
    from apps.destinations.routing import Routed, route
    from apps.events.services import source_create

    _, key = source_create(actor=admin, name="Web")
    with FakeVendor("webhook") as hook:
        destination = destination_at(admin, tool, hook)
        dead = Delivery.objects.create(
            destination=destination,
            message_id="m-1",
            subject="user_id:cus_1",
            status=DeliveryStatus.DEAD,
            payload={"kind": "event", "message": {}},
        )
        request = services.request_approve(actor=admin, request=verified(admin))
        assert request.status == RequestStatus.IN_PROGRESS
        # collection
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        answer = client.post(
            "/v1/batch",
            json.dumps(
                {
                    "batch": [
                        {"type": "track", "event": "Viewed", "userId": "cus_1", "messageId": "x1"},
                        {
                            "type": "track",
                            "event": "Viewed",
                            "anonymousId": "ajs-ana-phone",
                            "messageId": "x2",
                        },
                    ]
                }
            ),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )
        assert answer.status_code == 200
        assert {r["code"] for r in answer.json()["rejected"]} == {"subject_suppressed"}
        # routing (an event the pipeline hands over)
        route(
            [
                Routed(
                    event_id=999,
                    message_id="late",
                    message={"type": "track", "event": "X"},
                    status="processed",
                    consent={},
                    subject="anonymous_id:ajs-ana-laptop",
                )
            ],
            [destination],
        )
        assert Delivery.objects.get(event_id=999).reason == "suppression"
        # dead letters: scrubbed at approval and no longer replayable
        from apps.destinations.services import deliveries_replay

        dead.refresh_from_db()
        assert (dead.payload, dead.subject, dead.status) == (None, "erased", "filtered")
        assert deliveries_replay(actor=admin, deliveries=[dead]) == {"replayed": 0, "filtered": 0}
        # reverse ETL: a sync skips her row and counts it
        from apps.syncs import services as syncs
        from tests.syncs.conftest import Table, dsn, run_now, sync_for

        table = Table()
        try:
            table.execute(
                "INSERT INTO wh_people VALUES ('c1', 'ana@acme.example', 'Ana', 5), "
                "('c2', 'bo@acme.example', 'Bo', 3)"
            )
            warehouse = syncs.warehouse_create(actor=admin, name="WH", kind="postgres", dsn=dsn())
            model = syncs.model_create(
                actor=admin,
                name="People",
                warehouse=warehouse,
                primary_key="id",
                sql="SELECT * FROM wh_people",
            )
            run = run_now(admin, sync_for(admin, model, destination))
        finally:
            table.drop()
        assert (run.added, run.skipped_suppression) == (1, 1)


def test_owners_and_privacy_approvers_are_alerted_at_20_days_and_near_the_deadline(admin, tool):
    owner = person_with(admin, "erasure.view", name="Olga Owner")
    approver = person_with(admin, "erasure.view", "erasure.approve", name="Ada Approver")
    tool_create(
        actor=admin,
        name="Zendesk",
        vendor="Zendesk",
        category="Support",
        data_categories=["contact"],
        technical_owner=owner,
    )
    received = dt.date(2026, 3, 2)
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), tick=False):
        request = verified(admin, received_on=received)
        services.request_approve(actor=admin, request=request)  # the manual task stays open
    with time_machine.travel(dt.datetime(2026, 3, 21, 9, tzinfo=dt.UTC), tick=False):
        assert alerts.reminders() == 0  # 19 days: nothing yet
    with time_machine.travel(dt.datetime(2026, 3, 22, 9, tzinfo=dt.UTC), tick=False):
        assert alerts.reminders() == 3  # admin, approver, owner
        assert alerts.reminders() == 0  # once
    for person in (owner, approver):
        assert Notification.objects.filter(user=person, title__contains="20 days open").exists()
    with time_machine.travel(dt.datetime(2026, 3, 28, 9, tzinfo=dt.UTC), tick=False):
        alerts.reminders()  # due 2026-04-02: 5 days left
    note = Notification.objects.get(user=owner, title__contains="due in 5 days")
    assert "2026-04-02" in note.body


@pytest.mark.parametrize("kind", ["webhook", "hubspot", "braze", "customerio", "salesforce"])
def test_each_vendor_with_a_deletion_api_gets_the_call_and_the_task_completes(
    admin, ana, tool, kind
):
    with FakeVendor(kind) as vendor:
        destination_at(
            admin, tool, vendor, **({"sends": "profiles"} if kind == "salesforce" else {})
        )
        request = services.request_approve(actor=admin, request=verified(admin))
        _decide_matches(admin, request)
        run_due()
        task = request.tasks.get()
        assert task.status == TaskStatus.DONE, (task.last_error, task.evidence)
        assert task.receipt
        assert any(r.method in ("POST", "DELETE") for r in vendor.requests)
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED


# -- the egress policy and the vendor's words ----------------------------------------------------


@pytest.fixture
def zone(monkeypatch):
    """Name resolution for names under example.com (the machine has no public DNS)."""
    import socket

    real = socket.getaddrinfo
    records: dict[str, str] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        name = str(host).rstrip(".").lower()
        if name not in records:
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (records[name], int(port or 0)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return records


def test_a_status_url_a_vendor_answers_with_is_not_fetched_when_it_is_internal(
    settings, zone, admin, ana, tool
):
    """The review's read-back: a webhook's 202 names an internal status URL; the console
    never fetches it, and the task fails with the reason instead of carrying its body."""
    settings.MARTECH_EGRESS_ALLOW = ["hooks.vendor.example.com"]  # the vendor, by name only
    zone["hooks.vendor.example.com"] = "127.0.0.1"
    with FakeVendor("webhook") as hook, FakeVendor("webhook") as internal:
        port = hook.base_url.rsplit(":", 1)[1]
        vendor = f"http://hooks.vendor.example.com:{port}"
        destinations.destination_create(
            actor=admin,
            name="webhook sink",
            adapter="webhook",
            tool=tool,
            is_enabled=True,
            config={
                "url": f"{vendor}/hooks/martech",
                "deletion_url": f"{vendor}/hooks/martech/erasure",
            },
            credentials=dict(hook.credentials),
        )
        internal.fail_next(5, 403, "INTERNAL-ONLY metadata: iam-token=FAKE-TOKEN-123")
        hook.fail_next(1, 202, {"status_url": internal.base_url + "/internal/metadata"})
        request = services.request_approve(actor=admin, request=verified(admin))
        _decide_matches(admin, request)
        run_due()
        task = request.tasks.get()
        assert task.status == TaskStatus.AWAITING_VENDOR
        with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
            run_due()
        assert internal.requests == []
    task.refresh_from_db()
    assert task.status == TaskStatus.FAILED
    assert "127.0.0.1 is a loopback address" in task.last_error
    assert "FAKE-TOKEN" not in json.dumps(task.evidence) + task.last_error


def test_an_erasure_call_to_a_refused_address_fails_at_once_and_sends_nothing(
    settings, admin, ana, tool
):
    with FakeVendor("webhook") as hook:
        destination_at(admin, tool, hook)  # saved while loopback was allowed
        settings.MARTECH_EGRESS_ALLOW = []
        request = services.request_approve(actor=admin, request=verified(admin))
        _decide_matches(admin, request)
        run_due()
        assert hook.requests == []
    task = request.tasks.get()
    assert task.status == TaskStatus.FAILED  # not retried for a week: it can never succeed
    assert "loopback" in task.last_error
    assert "MARTECH_EGRESS_ALLOW" in task.last_error


def test_a_vendor_error_body_stays_off_the_task_and_goes_to_the_destination(admin, ana, tool):
    """Whoever follows the request sees the status; the vendor's words (short, cleaned) are
    on the destination, for those who manage it."""
    with FakeVendor("webhook") as hook:
        destination = destination_at(admin, tool, hook)
        hook.fail_next(
            1, 400, "INTERNAL-ONLY admin panel: db_password=FAKE-DB-PW-456\x1b" + "x" * 900
        )
        request = services.request_approve(actor=admin, request=verified(admin))
        _decide_matches(admin, request)
        run_due()
    task = request.tasks.get()
    assert task.status == TaskStatus.FAILED
    shown = task.last_error + json.dumps(task.evidence) + task.receipt
    assert "INTERNAL-ONLY" not in shown
    assert [e["http_status"] for e in task.evidence] == [400, 200]  # two anonymous ids
    destination.refresh_from_db()
    assert destination.last_error.startswith("Erasure: 400: INTERNAL-ONLY admin panel")
    assert len(destination.last_error) <= 310
    assert "\x1b" not in destination.last_error
