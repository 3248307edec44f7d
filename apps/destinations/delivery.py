"""Delivery: send a destination's due deliveries in batches, record each outcome, retry
temporary failures with exponential backoff and full jitter (honouring Retry-After) for
``DELIVERY_RETRY_HOURS``, and dead-letter permanent failures with the vendor's error.

Due deliveries are taken with ``FOR UPDATE SKIP LOCKED`` and the batch's outcome is written in
the same transaction, so a worker killed mid-send leaves them due (vendors deduplicate on the
message id we send). A subject's deliveries to one destination go in order: one waits while
an earlier one for the same subject is still unfinished. A destination that fails stops its
run at once; each destination runs in its own task, so one down or slow vendor never holds
up the others.

Consent is checked once more as a batch is taken: a delivery whose consent snapshot does not
grant every purpose the destination requires now (its purposes or its adapter changed since
it was routed) is filtered, not sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.consent import gate
from apps.events.selectors import stored_messages
from martech.common.crypto import decrypt
from martech.common.pgcopy import execute_arrays

from .adapters import Item, Result, Verdict, adapter_for
from .choices import UNFINISHED, DeliveryStatus, FilterReason
from .client import send
from .masking import result_kept
from .models import Delivery, Destination
from .routing import mapped

log = logging.getLogger(__name__)
BACKOFF_BASE = 30.0  # seconds before the first retry (at most; full jitter)
BACKOFF_CAP = 30 * 60.0  # never wait longer than this between attempts


@dataclass
class Run:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    filtered: int = 0
    requests: int = 0
    stopped: str = ""


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds until the next attempt: full jitter over an exponential ceiling, but never
    sooner than the vendor asked."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    wait = random.uniform(0, ceiling)
    return max(wait, retry_after or 0.0)


def _due(destination: Destination, limit: int, now: dt.datetime) -> list[Delivery]:
    """Up to ``limit`` due deliveries, locked, keeping each subject's order."""
    rows = list(
        Delivery.objects.select_for_update(skip_locked=True)
        .filter(destination=destination, status__in=UNFINISHED, next_attempt_at__lte=now)
        .only("id", "subject")  # the rest is loaded below, for the rows chosen
        .order_by("id")[: limit * 2]
    )
    if not rows:
        return []
    subjects = {r.subject for r in rows if r.subject}
    unfinished: dict[str, list[int]] = defaultdict(list)
    for subject, pk in (
        Delivery.objects.filter(destination=destination, status__in=UNFINISHED,
                                subject__in=subjects, id__lte=rows[-1].pk)
        .order_by("id").values_list("subject", "id")
    ):  # fmt: skip
        unfinished[subject].append(pk)
    taken = {r.pk for r in rows}
    allowed: set[int] = set()
    for pks in unfinished.values():
        for pk in pks:  # the subject's unfinished deliveries, oldest first: stop at a gap
            if pk not in taken:
                break
            allowed.add(pk)
    chosen = [r.pk for r in rows if not r.subject or r.pk in allowed][:limit]
    full = Delivery.objects.in_bulk(chosen)
    return [full[pk] for pk in chosen]


_RECORD = (
    "UPDATE destinations_delivery d SET status = v.status, attempts = v.attempts, "
    "first_attempt_at = v.first, last_attempt_at = v.last, next_attempt_at = v.next, "
    "delivered_at = v.delivered, response_code = v.code, error = v.error "
    "FROM unnest(%b::varchar[], %b::int[], %b::timestamptz[], %b::timestamptz[], "
    "%b::timestamptz[], %b::timestamptz[], %b::int[], %b::text[], %b::bigint[]) "
    "AS v(status, attempts, first, last, next, delivered, code, error, id) WHERE d.id = v.id"
)


def _record(rows: list[Delivery], result: Result, now: dt.datetime, run: Run) -> None:
    window = dt.timedelta(hours=settings.DELIVERY_RETRY_HOURS)
    for row in rows:
        verdict, message = result.verdict, result.message
        if row.pk in result.failed:
            verdict, message = result.failed[row.pk]
        row.attempts += 1
        row.first_attempt_at = row.first_attempt_at or now
        row.last_attempt_at = now
        row.response_code = result.status
        if verdict == Verdict.DELIVERED:
            row.status, row.delivered_at, row.error = DeliveryStatus.DELIVERED, now, ""
            row.next_attempt_at = None
            run.delivered += 1
        elif verdict == Verdict.RETRY and now - row.first_attempt_at < window:
            row.status, row.error = DeliveryStatus.RETRYING, message[:2000]
            wait = backoff(row.attempts, result.retry_after)
            row.next_attempt_at = now + dt.timedelta(seconds=wait)
            run.retrying += 1
        else:
            if verdict == Verdict.RETRY:
                hours = settings.DELIVERY_RETRY_HOURS
                message = f"Still failing after {hours:g} hours of retries: {message}"
            row.status, row.error, row.next_attempt_at = DeliveryStatus.DEAD, message[:2000], None
            run.dead += 1
    if connection.vendor == "postgresql":  # one statement for the batch
        execute_arrays(_RECORD, [
            [r.status for r in rows], [r.attempts for r in rows],
            [r.first_attempt_at for r in rows], [r.last_attempt_at for r in rows],
            [r.next_attempt_at for r in rows], [r.delivered_at for r in rows],
            [r.response_code for r in rows], [r.error for r in rows], [r.pk for r in rows],
        ])  # fmt: skip
        return
    Delivery.objects.bulk_update(
        rows,
        ["status", "attempts", "first_attempt_at", "last_attempt_at", "next_attempt_at",
         "delivered_at", "response_code", "error"],
    )  # fmt: skip


def items_of(rows: list[Delivery], destination: Destination) -> list[Item]:
    """What the rows send. A delivery of a stored event reads the event's message (one query
    for the batch) and applies the destination's field mappings now; one that holds its own
    message (a test send, an older delivery) sends that. A row whose message is gone (its
    event erased, or emptied by the retention) has no item."""
    stored = stored_messages(
        [r.event_id for r in rows if r.event_id and "message" not in (r.payload or {})]
    )
    items = []
    for r in rows:
        payload = r.payload or {}
        message = payload["message"] if "message" in payload else stored.get(r.event_id)
        if message is None:
            continue
        fields = payload["fields"] if "fields" in payload else mapped(destination, message)
        items.append(Item(key=r.pk, kind=payload.get("kind", "event"), message=message,
                          identifiers=payload.get("identifiers", {}), fields=fields))  # fmt: skip
    return items


def _withhold(rows: list[Delivery], destination: Destination, run: Run) -> list[Delivery]:
    """The rows whose consent snapshot grants what ``destination`` requires now; the others
    are filtered for consent (kept as routing keeps such a delivery: no payload)."""
    held = {r.pk for r in rows if not gate.allows(destination.required_purposes, r.consent)}
    if not held:
        return rows
    Delivery.objects.filter(pk__in=held).update(
        status=DeliveryStatus.FILTERED,
        reason=FilterReason.CONSENT,
        payload=None,
        next_attempt_at=None,
    )
    run.filtered += len(held)
    return [r for r in rows if r.pk not in held]


GONE = "The event's message is no longer stored (erased, or past the retention): nothing to send."


def deliver(destination: Destination, *, budget_seconds: float = 30.0) -> Run:
    """Send what is due for ``destination`` until nothing is, the budget is spent, or the
    vendor fails (then the rest waits for its own next attempt)."""
    run = Run()
    if not destination.is_enabled:
        run.stopped = "disabled"
        return run
    adapter = adapter_for(destination.adapter)
    credentials = decrypt(destination.credentials_token)
    base_url = (destination.base_url or adapter.default_base_url).rstrip("/")
    started = time.monotonic()
    rate = adapter.rate_for(destination.config)
    spacing = 1.0 / rate if rate else 0.0
    last_request = 0.0
    while time.monotonic() - started < budget_seconds:
        with transaction.atomic():
            now = timezone.now()
            rows = _due(destination, adapter.batch_size, now)
            if not rows:
                break
            rows = _withhold(rows, destination, run)
            if not rows:
                continue  # none may go: the next batch
            by_key = {r.pk: r for r in rows}
            failed = False
            result = Result(Verdict.DELIVERED, None)
            items = items_of(rows, destination)
            if len(items) < len(rows):
                sendable = {i.key for i in items}
                gone = [r for r in rows if r.pk not in sendable]
                _record(gone, Result(Verdict.PERMANENT, None, GONE), now, run)
                rows = [r for r in rows if r.pk in sendable]
                by_key = {r.pk: r for r in rows}
                if not rows:
                    continue  # nothing left to send in this batch: the next one
            try:
                requests = adapter.requests(items, destination.config, credentials, base_url)
            except Exception as exc:  # a configuration the vendor call cannot be built from
                log.exception("destination %s: could not build requests", destination.pk)
                result = result_kept(
                    Result(
                        Verdict.PERMANENT,
                        None,
                        f"Could not build the vendor request: {type(exc).__name__}: {exc}",
                    ),
                    credentials,
                )
                requests = []  # fmt: skip
            carried_keys = {k for request in requests for k in request.keys}
            left = [r for r in rows if r.pk not in carried_keys]
            if left:
                _record(left, result if not requests else Result(
                    Verdict.PERMANENT, None, "The adapter built no request for it."),
                    now, run)  # fmt: skip
            for request in requests:
                pause = spacing - (time.monotonic() - last_request)
                if pause > 0:
                    time.sleep(pause)
                last_request = time.monotonic()
                answer = send(request)
                run.requests += 1
                if answer.refused:  # the egress policy: nothing was sent, nor will be
                    result = Result(Verdict.PERMANENT, None, answer.error)
                elif answer.status is None:
                    result = Result(Verdict.RETRY, None, answer.error)
                else:
                    result = adapter.classify(answer.status, answer.headers, answer.body,
                                              request.keys)  # fmt: skip
                result = result_kept(result, credentials)
                carried = [by_key[k] for k in request.keys if k in by_key]
                _record(carried, result, timezone.now(), run)
                failed = failed or result.verdict == Verdict.RETRY
            _health(destination, run, failed, result)
        if failed:
            run.stopped = "vendor failing"
            break
    return run


def _health(destination: Destination, run: Run, failed: bool, result: Result) -> None:
    now = timezone.now()
    if failed or result.verdict == Verdict.PERMANENT:
        text = f"{result.status or 'no answer'}: {result.message}"[:500]
        Destination.objects.filter(pk=destination.pk).update(last_error=text, last_error_at=now)
    if run.delivered:
        Destination.objects.filter(pk=destination.pk).update(last_success_at=now)
