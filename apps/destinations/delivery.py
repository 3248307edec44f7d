"""Delivery: send a destination's due deliveries through the outbound port, record each
outcome, retry temporary failures on the port's backoff (honouring Retry-After) for
``DELIVERY_RETRY_HOURS``, and dead-letter permanent failures with the vendor's error.

One sender a destination: a run holds the destination's sender lock (a PostgreSQL session
advisory lock, released by the server if the worker dies), so it may take due deliveries
without locking their rows. A wave of due deliveries is read in one short transaction, the
vendor requests are sent with no transaction open, and the wave's outcome is written in one
statement afterwards (only to deliveries still unfinished, so a delivery erased or filtered
meanwhile keeps that). A worker killed mid-send leaves its wave due, as it was: the next run
sends it again (vendors deduplicate on the message id we send).

A subject's deliveries to one destination go in order: one waits while an earlier one for
the same subject is still unfinished, and a wave puts all of a subject's deliveries in the
same request group, sent in order, so nothing of a subject overtakes what failed before it.
The groups of a wave go side by side: one group while the vendor has not answered yet,
doubling with each wave it accepts, up to ``outbound.MAX_PARALLEL``. A destination that
fails stops its run at once; each destination runs in its own task, so one down or slow
vendor never holds up the others.

Consent is checked once more as a wave is taken: a delivery whose consent snapshot does not
grant every purpose the destination requires now (its purposes or its adapter changed since
it was routed) is filtered, not sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from apps.consent import gate
from apps.events.selectors import stored_messages

from . import outbound
from .choices import UNFINISHED, DeliveryStatus, FilterReason
from .models import Delivery, Destination
from .outbound import Item, Result, Verdict
from .routing import mapped

log = logging.getLogger(__name__)
SENDER_LOCK = 0x44_45_4C_56  # the advisory lock class of delivery senders ("DELV")


@dataclass
class Run:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    filtered: int = 0
    requests: int = 0
    stopped: str = ""


@dataclass(slots=True)
class Due:
    """A due delivery as a run needs it (what it sends, and its attempts so far)."""

    pk: int
    subject: str
    event_id: int | None
    payload: dict | None
    consent: dict | None
    attempts: int
    first_attempt_at: dt.datetime | None
    # The outcome, set by ``_outcome``.
    status: str = ""
    last_attempt_at: dt.datetime | None = None
    next_attempt_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    response_code: int | None = None
    error: str = ""


_DUE_FIELDS = ("id", "subject", "event_id", "payload", "consent", "attempts", "first_attempt_at")
_DUE_SQL = (
    "SELECT id, subject, event_id, payload::text, consent::text, attempts, first_attempt_at "
    "FROM destinations_delivery WHERE destination_id = %s AND status IN ('pending', 'retrying') "
    "AND next_attempt_at <= %s ORDER BY id LIMIT %s"
)


def _due(destination: Destination, limit: int, now: dt.datetime) -> list[Due]:
    """Up to ``limit`` due deliveries in id order, keeping each subject's order: a
    delivery is left out while an earlier one of its subject is unfinished and not due."""
    unfinished = Delivery.objects.filter(destination=destination, status__in=UNFINISHED)
    if connection.vendor == "postgresql":  # the JSON read by orjson, no model converters
        with connection.cursor() as cursor:
            cursor.execute(_DUE_SQL, [destination.pk, now, limit])
            rows = [
                Due(pk, subject, event, _json(payload), _json(consent), attempts, first)
                for pk, subject, event, payload, consent, attempts, first in cursor.fetchall()
            ]
    else:
        due = unfinished.filter(next_attempt_at__lte=now).order_by("id")
        rows = [Due(*values) for values in due.values_list(*_DUE_FIELDS)[:limit]]
    if not rows:
        return []
    # Every due delivery up to the last one taken is taken (id order), so a subject's earlier
    # unfinished delivery that was not taken is one waiting for its next attempt: the
    # subject's deliveries after it wait too.
    waiting = dict(
        unfinished.filter(id__lte=rows[-1].pk)
        .filter(Q(next_attempt_at__gt=now) | Q(next_attempt_at__isnull=True))
        .exclude(subject="")
        .order_by()
        .values("subject")
        .annotate(first=Min("id"))
        .values_list("subject", "first")
    )
    if not waiting:
        return rows
    return [r for r in rows if not r.subject or r.pk < waiting.get(r.subject, r.pk + 1)]


def _json(text: str | None):
    return None if text is None else orjson.loads(text)


# The outcomes of a wave, by column name. Delivered ones, most of a wave, share their values
# but the id: one short statement for each answer time and status code.
# (Joined to the ids, not ``id = ANY(…)``: with the status test the planner would otherwise
# walk the whole partial index of unfinished deliveries.)
_DELIVERED = (
    "UPDATE destinations_delivery d SET status = 'delivered', attempts = d.attempts + 1, "
    "first_attempt_at = coalesce(d.first_attempt_at, %(at)s), last_attempt_at = %(at)s, "
    "next_attempt_at = NULL, delivered_at = %(at)s, response_code = %(code)s, error = '' "
    "FROM unnest(%(ids)s::bigint[]) AS v(id) "
    "WHERE d.id = v.id AND d.status IN ('pending', 'retrying')"
)
_RECORD = (
    "UPDATE destinations_delivery d SET status = v.status, attempts = v.attempts, "
    "first_attempt_at = v.first_attempt_at, last_attempt_at = v.last_attempt_at, "
    "next_attempt_at = v.next_attempt_at, delivered_at = v.delivered_at, "
    "response_code = v.response_code, error = v.error "
    "FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, status varchar, attempts int, "
    "first_attempt_at timestamptz, last_attempt_at timestamptz, next_attempt_at timestamptz, "
    "delivered_at timestamptz, response_code int, error text) "
    "WHERE d.id = v.id AND d.status IN ('pending', 'retrying')"
)
_RECORDED = (
    "status",
    "attempts",
    "first_attempt_at",
    "last_attempt_at",
    "next_attempt_at",
    "delivered_at",
    "response_code",
    "error",
)


def _outcome(
    row: Due, result: Result, now: dt.datetime, run: Run, backoff: outbound.Backoff
) -> None:
    """Set ``row``'s outcome from the vendor's ``result`` (its own verdict if the vendor
    named it among the failed items of a batch)."""
    window = dt.timedelta(hours=settings.DELIVERY_RETRY_HOURS)
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
        wait = backoff.wait(row.attempts, result.retry_after)
        row.next_attempt_at = now + dt.timedelta(seconds=wait)
        run.retrying += 1
    else:
        if verdict == Verdict.RETRY:
            hours = settings.DELIVERY_RETRY_HOURS
            message = f"Still failing after {hours:g} hours of retries: {message}"
        row.status, row.error, row.next_attempt_at = DeliveryStatus.DEAD, message[:2000], None
        run.dead += 1


def _record(rows: list[Due]) -> None:
    """Write the outcomes of ``rows``, each only if its delivery is still unfinished (one
    statement for the delivered ones of each answer, one for the rest, on PostgreSQL)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        with transaction.atomic():
            for r in rows:
                Delivery.objects.filter(pk=r.pk, status__in=UNFINISHED).update(
                    **{f: getattr(r, f) for f in _RECORDED}
                )
        return
    delivered: dict[tuple, list[int]] = {}
    rest = []
    for r in rows:
        if r.status == DeliveryStatus.DELIVERED:
            delivered.setdefault((r.delivered_at, r.response_code), []).append(r.pk)
        else:
            rest.append({"id": r.pk, **{f: getattr(r, f) for f in _RECORDED}})
    with transaction.atomic(), connection.cursor() as cursor:
        # An outcome lost with the database server's last moments only sends its delivery
        # again (vendors deduplicate on the message id): no need to wait for the disk.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        for (at, code), ids in delivered.items():
            cursor.execute(_DELIVERED, {"at": at, "code": code, "ids": ids})
        if rest:
            cursor.execute(_RECORD, [orjson.dumps(rest).decode()])


def items_of(rows: list, destination: Destination) -> list[Item]:
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
        items.append(
            Item(
                key=r.pk,
                kind=payload.get("kind", "event"),
                message=message,
                identifiers=payload.get("identifiers", {}),
                fields=fields,
            )
        )
    return items


def _withhold(rows: list[Due], destination: Destination, run: Run) -> list[Due]:
    """The rows whose consent snapshot grants what ``destination`` requires now; the others
    are filtered for consent (kept as routing keeps such a delivery: no payload)."""
    held = {r.pk for r in rows if not gate.allows(destination.required_purposes, r.consent)}
    if not held:
        return rows
    Delivery.objects.filter(pk__in=held, status__in=UNFINISHED).update(
        status=DeliveryStatus.FILTERED,
        reason=FilterReason.CONSENT,
        payload=None,
        next_attempt_at=None,
    )
    run.filtered += len(held)
    return [r for r in rows if r.pk not in held]


def _groups(rows: list[Due], size: int, count: int) -> list[list[Due]]:
    """At most ``count`` groups of at most ``size`` rows, each subject's rows in one group
    in their order (a subject's rows beyond ``size`` wait for a later wave)."""
    by_subject: dict[str, list[Due]] = {}
    for row in rows:
        by_subject.setdefault(row.subject or f"#{row.pk}", []).append(row)
    groups: list[list[Due]] = [[]]
    for of_subject in by_subject.values():
        chunk = of_subject[:size]
        if groups[-1] and len(groups[-1]) + len(chunk) > size:
            if len(groups) == count:
                break
            groups.append([])
        groups[-1].extend(chunk)
    return groups


@contextlib.contextmanager
def _sender(destination: Destination):
    """Whether this run is the destination's one sender, for as long as it runs. On
    PostgreSQL a session advisory lock (the server releases it when a killed worker's
    connection goes); elsewhere (the embedded SQLite mode) the dispatcher's lock alone."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [SENDER_LOCK, destination.pk])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [SENDER_LOCK, destination.pk])


GONE = "The event's message is no longer stored (erased, or past the retention): nothing to send."
NO_REQUEST = "The adapter built no request for it."


def deliver(destination: Destination, *, budget_seconds: float = 30.0) -> Run:
    """Send what is due for ``destination`` until nothing is, the budget is spent, or the
    vendor fails (then the rest waits for its own next attempt)."""
    run = Run()
    if not destination.is_enabled:
        run.stopped = "disabled"
        return run
    with _sender(destination) as mine:
        if not mine:
            run.stopped = "another run is sending"
            return run
        vendor = outbound.vendor_for(destination)
        started = time.monotonic()
        width = 1  # groups side by side: one until the vendor has answered
        while time.monotonic() - started < budget_seconds:
            with transaction.atomic():
                rows = _due(destination, vendor.batch_size * width, timezone.now())
                taken = len(rows)
                rows = _withhold(rows, destination, run)
            if not taken:
                break
            failed = _wave(vendor, destination, rows, width, run)
            run.requests = vendor.requests_sent
            if failed:
                run.stopped = "vendor failing"
                break
            width = min(outbound.MAX_PARALLEL, width * 2)
    return run


def _wave(
    vendor: outbound.Vendor, destination: Destination, rows: list[Due], width: int, run: Run
) -> bool:
    """Send one wave and record its outcome; whether the vendor failed (temporarily)."""
    now = timezone.now()
    backoff = vendor.backoff
    items = {i.key: i for i in items_of(rows, destination)}
    done: list[Due] = []
    for row in rows:
        if row.pk not in items:
            _outcome(row, Result(Verdict.PERMANENT, None, GONE), now, run, backoff)
            done.append(row)
    groups, built = _groups([r for r in rows if r.pk in items], vendor.batch_size, width), []
    for group in groups:
        if not group:
            continue
        try:
            requests = vendor.build([items[r.pk] for r in group])
        except outbound.BuildFailed as exc:
            log.warning("destination %s: could not build requests", destination.pk)
            for row in group:
                _outcome(row, Result(Verdict.PERMANENT, None, exc.message), now, run, backoff)
            done.extend(group)
            continue
        carried = {k for request in requests for k in request.keys}
        for row in group:
            if row.pk not in carried:
                _outcome(row, Result(Verdict.PERMANENT, None, NO_REQUEST), now, run, backoff)
                done.append(row)
        built.append(({r.pk: r for r in group}, requests))
    failed, last = False, Result(Verdict.DELIVERED, None)
    sent = list(vendor.send_groups([requests for _, requests in built]))
    answered = timezone.now()  # the wave's answers, as one moment
    for (by_key, _), pairs in zip(built, sent, strict=True):
        for request, result in pairs:
            for key in request.keys:
                if key in by_key:
                    _outcome(by_key[key], result, answered, run, backoff)
                    done.append(by_key[key])
            if result.verdict != Verdict.DELIVERED:
                last = result
            failed = failed or result.verdict == Verdict.RETRY
    _record(done)
    _health(destination, run, failed, last)
    return failed


def _health(destination: Destination, run: Run, failed: bool, result: Result) -> None:
    now = timezone.now()
    if failed or result.verdict == Verdict.PERMANENT:
        text = f"{result.status or 'no answer'}: {result.message}"[:500]
        Destination.objects.filter(pk=destination.pk).update(last_error=text, last_error_at=now)
    if run.delivered:
        Destination.objects.filter(pk=destination.pk).update(last_success_at=now)
