"""Delivery in waves through the outbound port: no row is locked and no transaction is open
while a vendor answers, requests go side by side once the vendor answers, each subject's
events still arrive in order (also when one request of a wave fails), and a destination has
one sender at a time."""

import dataclasses
import datetime as dt
import threading

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.destinations import outbound, store
from apps.destinations.delivery import deliver
from apps.destinations.models import Delivery
from apps.events.pipeline import process_waiting

from .conftest import hook, send
from .vendors import FakeVendor, Received

SUBJECTS, EACH = 150, 4  # 600 events: waves of one, two, then four requests of 100


class CountingVendor(FakeVendor):
    """The webhook fake, counting the requests it answers at once and what each carried;
    it fails once (503) the first request that carries ``fail_once``."""

    def __init__(self):
        super().__init__("webhook")
        self.in_flight = 0
        self.most_at_once = 0
        self.answered: list[tuple[list[str], int]] = []
        self.fail_once = ""

    def _serve(self, handler) -> None:
        with self._lock:
            self.in_flight += 1
            self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            super()._serve(handler)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _route(self, r: Received):
        ids = [m["messageId"] for m in (r.body or {}).get("batch", [])]
        with self._lock:
            failing = bool(self.fail_once) and self.fail_once in ids
            if failing:
                self.fail_once = ""
        answer = (503, {"message": "try later"}, {}) if failing else super()._route(r)
        with self._lock:
            self.answered.append((ids, answer[0]))
        return answer


def _events(client, raw):
    messages = [
        {
            "type": "track",
            "event": "Order Completed",
            "messageId": f"s{s}-m{n}",
            "anonymousId": f"s{s}",
            "properties": {"n": n},
        }
        for n in range(1, EACH + 1)
        for s in range(SUBJECTS)
    ]
    for start in range(0, len(messages), 100):
        send(client, raw, messages[start : start + 100])
    process_waiting()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_no_delivery_row_is_locked_while_the_vendor_answers(client, admin, tool, web):
    # given: a vendor that takes its time
    _, raw = web
    with CountingVendor() as vendor:
        destination = hook(admin, tool, vendor)
        signed_up = {"type": "track", "event": "Signed Up", "anonymousId": "ann"}
        send(client, raw, [{**signed_up, "messageId": "slow-1"}])
        process_waiting()
        vendor.latency = 1.5

        # when: a worker delivers
        def run():
            try:
                deliver(destination)
            finally:
                connection.close()

        worker = threading.Thread(target=run)
        worker.start()
        try:
            deadline = timezone.now() + dt.timedelta(seconds=10)
            while not vendor.requests and timezone.now() < deadline:
                threading.Event().wait(0.02)
            assert vendor.requests, "the vendor was never called"

            # then: while the vendor answers, the delivery can be locked by anyone else at once
            with transaction.atomic():
                locked = list(
                    Delivery.objects.select_for_update(nowait=True)
                    .filter(destination=destination)
                    .values_list("message_id", flat=True)
                )
            assert locked == ["slow-1"]
        except DatabaseError as exc:  # pragma: no cover - what the old engine did
            pytest.fail(f"a delivery row was locked while the vendor answered: {exc}")
        finally:
            worker.join(timeout=30)
    assert Delivery.objects.get(destination=destination).status == "delivered"


def test_requests_go_side_by_side_once_the_vendor_answers_and_each_subject_stays_in_order(
    client, admin, tool, web
):
    # given: 150 people with 4 events each, and a vendor that answers slowly
    _, raw = web
    with CountingVendor() as vendor:
        destination = hook(admin, tool, vendor)
        _events(client, raw)
        vendor.latency = 0.2

        # when: everything is delivered
        run = deliver(destination)

    # then: after the first request, several were in flight at once
    assert run.delivered == SUBJECTS * EACH
    assert run.requests == 6  # 100, then 2 x 100, then 3 x 100 of a wave of four
    assert vendor.most_at_once >= 2
    # and every person's events arrived in the order they were sent
    for s in range(SUBJECTS):
        seen = [i for ids, _ in vendor.answered for i in ids if i.startswith(f"s{s}-")]
        assert seen == [f"s{s}-m{n}" for n in range(1, EACH + 1)]


def test_a_failed_request_of_a_wave_holds_back_only_its_people_and_their_order_is_kept(
    client, admin, tool, web
):
    # given: the request that carries one person's second event fails once
    _, raw = web
    with CountingVendor() as vendor:
        destination = hook(admin, tool, vendor)
        _events(client, raw)
        vendor.fail_once = "s120-m2"

        # when: the destination is delivered to, and again after the backoff
        first = deliver(destination)
        with time_machine.travel(timezone.now() + dt.timedelta(hours=1), tick=False):
            deliver(destination)

    # then: the first run stopped at the failure, the others of its wave went through
    assert first.stopped == "vendor failing"
    assert (first.retrying, first.delivered) == (100, 200)
    statuses = Delivery.objects.filter(destination=destination).values_list("status", flat=True)
    assert set(statuses) == {"delivered"}
    # and each person's events were acknowledged in order, the failed ones included
    for s in range(SUBJECTS):
        acked = [
            i
            for ids, status in vendor.answered
            if status < 300
            for i in ids
            if i.startswith(f"s{s}-")
        ]
        assert acked == [f"s{s}-m{n}" for n in range(1, EACH + 1)]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_destination_has_one_sender_at_a_time(client, admin, tool, web):
    # given: a run that is sending to a slow vendor
    _, raw = web
    with CountingVendor() as vendor:
        destination = hook(admin, tool, vendor)
        signed_up = {"type": "track", "event": "Signed Up", "anonymousId": "ann"}
        send(client, raw, [{**signed_up, "messageId": "one"}])
        process_waiting()
        vendor.latency = 1.0

        def run():
            try:
                deliver(destination)
            finally:
                connection.close()

        worker = threading.Thread(target=run)
        worker.start()
        try:
            deadline = timezone.now() + dt.timedelta(seconds=10)
            while not vendor.requests and timezone.now() < deadline:
                threading.Event().wait(0.02)

            # when: a second run starts meanwhile
            second = deliver(destination)
        finally:
            worker.join(timeout=30)

    # then: it sends nothing, and the delivery went once
    assert (second.stopped, second.requests) == ("another run is sending", 0)
    assert len(vendor.requests) == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_once_every_group_is_busy_a_wave_sends_several_requests_a_group_each_subject_in_order(
    admin, tool
):
    # given: 6,400 deliveries of 200 people, 32 each, every one holding its own message
    now = timezone.now()
    rows = [
        store.NewDelivery(
            destination_id=0,
            event_id=None,
            message_id=f"s{s}-m{n}",
            event_name="Order Completed",
            subject=f"anonymous_id:s{s}",
            status="pending",
            reason="",
            consent=None,
            payload={
                "kind": "event",
                "message": {"type": "track", "event": "Order Completed", "messageId": f"s{s}-m{n}"},
                "identifiers": {"anonymous_id": f"s{s}"},
            },
            next_attempt_at=now,
            created_at=now,
        )
        for n in range(1, 33)
        for s in range(200)
    ]
    with CountingVendor() as vendor:
        destination = hook(admin, tool, vendor)
        store.insert([dataclasses.replace(r, destination_id=destination.pk) for r in rows])

        # when: everything is delivered
        run = deliver(destination, budget_seconds=300)

    # then: waves of 100, 200, 400 and 800 (eight groups), then of 1,600 and 3,200 (each
    # group sending two, then four requests in turn): seven waves where eight groups of one
    # request each would have taken eleven, and never more than eight requests at once
    assert run.delivered == len(rows)
    assert run.waves == 7
    assert vendor.most_at_once <= outbound.MAX_PARALLEL
    # and every person's events arrived in the order they were routed
    for s in range(200):
        seen = [i for ids, _ in vendor.answered for i in ids if i.startswith(f"s{s}-")]
        assert seen == [f"s{s}-m{n}" for n in range(1, 33)]
    assert set(
        Delivery.objects.filter(destination=destination).values_list("status", flat=True)
    ) == {"delivered"}


class LockingSalesforce(FakeVendor):
    """Salesforce's fake, answering UNABLE_TO_LOCK_ROW (to be retried) once for the record
    ``lock_once`` names (its Email and LastName); records what it upserted, in order."""

    def __init__(self):
        super().__init__("salesforce")
        self.lock_once: tuple[str, str] = ("", "")
        self.upserted: list[tuple[str, str]] = []

    def _route(self, r: Received):
        status, body, headers = super()._route(r)
        records = r.body.get("records") if isinstance(r.body, dict) else None
        if records and isinstance(body, list):
            with self._lock:
                for n, record in enumerate(records):
                    key = (record.get("Email"), record.get("LastName"))
                    if key == self.lock_once:
                        self.lock_once = ("", "")
                        error = {
                            "statusCode": "UNABLE_TO_LOCK_ROW",
                            "message": "locked",
                            "fields": [],
                        }
                        body[n] = {"success": False, "errors": [error]}
                    elif body[n].get("success"):
                        self.upserted.append(key)
        return status, body, headers


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_record_to_retry_holds_back_its_persons_later_deliveries_already_read_ahead(admin, tool):
    # given: 150 people with 8 profile updates each; Salesforce cannot lock one person's
    # third record once, in the second wave, while the third wave is being read ahead
    now = timezone.now()
    rows = [
        store.NewDelivery(
            destination_id=0,
            event_id=None,
            message_id=f"p{s}-u{n}",
            event_name="identify",
            subject=f"email:p{s}@example.com",
            status="pending",
            reason="",
            consent=None,
            payload={
                "kind": "profile",
                "message": {"type": "identify", "messageId": f"p{s}-u{n}"},
                "identifiers": {"email": f"p{s}@example.com"},
                "fields": {"LastName": f"u{n}"},
            },
            next_attempt_at=now,
            created_at=now,
        )
        for n in range(1, 9)
        for s in range(150)
    ]
    with LockingSalesforce() as vendor:
        destination = hook(
            admin,
            tool,
            vendor,
            adapter="salesforce",
            sends="profiles",
            config={},
            base_url=vendor.base_url,
        )
        store.insert([dataclasses.replace(r, destination_id=destination.pk) for r in rows])
        vendor.lock_once = ("p60@example.com", "u3")

        # when: the destination is delivered to, and again after the backoff
        first = deliver(destination, budget_seconds=300)
        held = list(vendor.upserted)
        with time_machine.travel(timezone.now() + dt.timedelta(hours=1), tick=False):
            deliver(destination, budget_seconds=300)

    # then: the first run sent none of that person's updates after the one to retry but those
    # that shared its request, and went on with everyone else's
    assert first.retrying == 1
    assert [u for e, u in held if e == "p60@example.com"] == ["u1", "u2", "u4"]
    assert first.delivered == len(rows) - 1 - 4
    # and the second run sent the one retried, then the rest, in order
    assert [u for e, u in vendor.upserted if e == "p60@example.com"] == [
        "u1",
        "u2",
        "u4",
        "u3",
        "u5",
        "u6",
        "u7",
        "u8",
    ]
    statuses = Delivery.objects.filter(destination=destination).values_list("status", flat=True)
    assert set(statuses) == {"delivered"}
