"""Delivery: send a destination's due deliveries through the outbound port, record each
outcome, retry temporary failures on the port's backoff (honouring Retry-After) for
``DELIVERY_RETRY_HOURS``, and dead-letter permanent failures with the vendor's error.

One sender a destination: a run holds the destination's sender lock (a PostgreSQL session
advisory lock, released by the server if the worker dies), so it may take due deliveries
without locking their rows. A wave of due deliveries is read in one statement, the vendor
requests are sent with no transaction open, and the wave's outcome is written afterwards
(only to deliveries still unfinished, so a delivery erased or filtered meanwhile keeps
that). A worker killed mid-send leaves its wave due, as it was: the next run sends it again
(vendors deduplicate on the message id we send).

A subject's deliveries to one destination go in order: one waits while an earlier one for
the same subject is still unfinished and not due, and a wave puts all of a subject's
deliveries in the same request group, sent in order, so nothing of a subject overtakes what
failed before it. The groups of a wave go side by side: one group while the vendor has not
answered yet, doubling with each wave it accepts, up to ``outbound.MAX_PARALLEL``; then each
group sends more requests in turn, doubling, while a wave stays within ``WAVE_ROWS``. A
destination that fails stops its run at once; each destination runs in its own task, so one
down or slow vendor never holds up the others.

Once the vendor has accepted a wave, the next one is read and built while the vendor answers
(leaving out what the wave in flight settles), and outcomes are written beside the sending
(``store.Writer``); the next wave is sent only after this one has answered: dropped if the
vendor failed, read again if one of its people is now to be retried later.

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

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.consent import gate
from apps.events.selectors import stored_messages

from . import outbound, store
from .choices import UNFINISHED, DeliveryStatus, FilterReason
from .models import Delivery, Destination
from .outbound import Item, Result, Verdict
from .routing import mapped
from .store import Due, Outcome

log = logging.getLogger(__name__)
SENDER_LOCK = 0x44_45_4C_56  # the advisory lock class of delivery senders ("DELV")


@dataclass
class Run:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    filtered: int = 0
    requests: int = 0
    waves: int = 0
    stopped: str = ""


def _outcome(
    row: Due,
    result: Result,
    now: dt.datetime,
    run: Run,
    backoff: outbound.Backoff,
    window: dt.timedelta,
) -> Outcome:
    """The outcome of ``row`` from the vendor's ``result`` (its own verdict if the vendor
    named it among the failed items of a batch); ``window``: how long a delivery is retried."""
    verdict, message = result.verdict, result.message
    if row.id in result.failed:
        verdict, message = result.failed[row.id]
    attempts = row.attempts + 1
    first = row.first_attempt_at or now
    if verdict == Verdict.DELIVERED:
        run.delivered += 1
        return Outcome(
            row.id, DeliveryStatus.DELIVERED, attempts, first, now, None, now, result.status, ""
        )
    if verdict == Verdict.RETRY and now - first < window:
        run.retrying += 1
        wait = backoff.wait(attempts, result.retry_after)
        return Outcome(
            row.id,
            DeliveryStatus.RETRYING,
            attempts,
            first,
            now,
            now + dt.timedelta(seconds=wait),
            None,
            result.status,
            message[:2000],
        )
    if verdict == Verdict.RETRY:
        hours = settings.DELIVERY_RETRY_HOURS
        message = f"Still failing after {hours:g} hours of retries: {message}"
    run.dead += 1
    return Outcome(
        row.id, DeliveryStatus.DEAD, attempts, first, now, None, None, result.status, message[:2000]
    )


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
                key=r.id,
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
    purposes = destination.required_purposes
    held = {r.id for r in rows if not gate.allows(purposes, r.consent)}
    if not held:
        return rows
    Delivery.objects.filter(pk__in=held, status__in=UNFINISHED).update(
        status=DeliveryStatus.FILTERED,
        reason=FilterReason.CONSENT,
        payload=None,
        next_attempt_at=None,
    )
    run.filtered += len(held)
    return [r for r in rows if r.id not in held]


def _groups(rows: list[Due], size: int, count: int) -> list[list[Due]]:
    """At most ``count`` groups of at most ``size`` rows, each subject's rows in one group
    in their order (a subject's rows beyond ``size`` wait for a later wave)."""
    by_subject: dict[str, list[Due]] = {}
    for row in rows:
        by_subject.setdefault(row.subject or f"#{row.id}", []).append(row)
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


# A wave grows as the vendor accepts: first its groups side by side (up to
# ``outbound.MAX_PARALLEL``), then the requests each group sends one after the other, while
# the wave stays within ``WAVE_ROWS`` deliveries.
WAVE_ROWS = 5000


@dataclass
class _Wave:
    """One wave, built and ready to send: the outcomes known before sending (a message gone,
    a request that could not be built) and, for each group, its rows by id and its requests."""

    rows: list[Due]
    done: list[Outcome]
    built: list[tuple[dict[int, Due], list[outbound.Outbound]]]

    @property
    def ids(self) -> list[int]:
        """The deliveries this wave settles (those left out of its groups are not)."""
        return [o.id for o in self.done] + [pk for by_id, _ in self.built for pk in by_id]


def deliver(destination: Destination, *, budget_seconds: float = 30.0) -> Run:
    """Send what is due for ``destination`` until nothing is, the budget is spent, or the
    vendor fails (then the rest waits for its own next attempt).

    While a wave's requests are out, the next wave is read and built (leaving out what this
    one settles), and the outcomes of the wave before are written beside it (``store.Writer``):
    the vendor, the reading and the writing each wait for the others as little as they can.
    The next wave is sent only once this one has answered: it is dropped if the vendor
    failed, and read again if one of its people's deliveries is to be tried again later."""
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
        width, depth = 1, 1  # groups side by side (one until the vendor has answered), and
        # the requests of each group
        last = Result(Verdict.DELIVERED, None)
        with store.Writer() as writer:
            wave = _take(vendor, destination, run, width, depth, writer.unwritten)
            while wave is not None:
                answers = vendor.start_groups([requests for _, requests in wave.built])
                run.waves += 1
                accepted = width > 1  # the vendor has accepted a wave: read ahead
                width, depth = _grown(vendor, width, depth)
                following = None
                if accepted and time.monotonic() - started < budget_seconds:
                    skip = writer.unwritten + wave.ids
                    following = _take(vendor, destination, run, width, depth, skip)
                outcomes, failed, retrying, answer = _answered(vendor, wave, answers(), run)
                last = answer if answer.verdict != Verdict.DELIVERED else last
                run.requests = vendor.requests_sent
                writer.write(outcomes, now=failed or retrying)
                if failed:
                    run.stopped = "vendor failing"
                    break
                if time.monotonic() - started >= budget_seconds:
                    break
                if following is None or retrying:  # not read yet, or its people may wait now
                    following = _take(vendor, destination, run, width, depth, writer.unwritten)
                wave = following
        _health(destination, run, run.stopped == "vendor failing", last)
    return run


def _grown(vendor: outbound.Vendor, width: int, depth: int) -> tuple[int, int]:
    """The next wave's (width, depth) if this one is accepted."""
    if width < outbound.MAX_PARALLEL:
        return min(outbound.MAX_PARALLEL, width * 2), depth
    if vendor.batch_size * width * depth * 2 <= WAVE_ROWS:
        return width, depth * 2
    return width, depth


def _take(
    vendor: outbound.Vendor,
    destination: Destination,
    run: Run,
    width: int,
    depth: int,
    skip: list[int],
) -> _Wave | None:
    """The next wave, built; None when nothing is due."""
    limit = vendor.batch_size * width * depth
    rows = store.due(destination.pk, limit, timezone.now(), skip=skip)
    if not rows:
        return None
    rows = _withhold(rows, destination, run)
    now = timezone.now()
    window = dt.timedelta(hours=settings.DELIVERY_RETRY_HOURS)
    backoff = vendor.backoff
    items = {i.key: i for i in items_of(rows, destination)}
    done: list[Outcome] = []
    gone = Result(Verdict.PERMANENT, None, GONE)
    for row in rows:
        if row.id not in items:
            done.append(_outcome(row, gone, now, run, backoff, window))
    size = vendor.batch_size
    groups = _groups([r for r in rows if r.id in items], size * depth, width)
    built = []
    for group in groups:
        requests: list[outbound.Outbound] = []
        for start in range(0, len(group), size):
            chunk = group[start : start + size]
            try:
                made = vendor.build([items[r.id] for r in chunk])
            except outbound.BuildFailed as exc:
                log.warning("destination %s: could not build requests", destination.pk)
                failure = Result(Verdict.PERMANENT, None, exc.message)
                done.extend(_outcome(row, failure, now, run, backoff, window) for row in chunk)
                continue
            carried = {k for request in made for k in request.keys}
            unsent = Result(Verdict.PERMANENT, None, NO_REQUEST)
            for row in chunk:
                if row.id not in carried:
                    done.append(_outcome(row, unsent, now, run, backoff, window))
            requests.extend(made)
        if requests:
            built.append(({r.id: r for r in group if r.id in items}, requests))
    return _Wave(rows, done, built)


def _answered(
    vendor: outbound.Vendor, wave: _Wave, sent: list, run: Run
) -> tuple[list[Outcome], bool, bool, Result]:
    """The wave's outcomes from the vendor's answers: (outcomes, whether the vendor failed
    temporarily, whether any delivery is to be tried again, the last answer that was not a
    delivery)."""
    answered = timezone.now()  # the wave's answers, as one moment
    window = dt.timedelta(hours=settings.DELIVERY_RETRY_HOURS)
    backoff = vendor.backoff
    done = list(wave.done)
    failed, last = False, Result(Verdict.DELIVERED, None)
    for (by_key, _), pairs in zip(wave.built, sent, strict=True):
        for request, result in pairs:
            for key in request.keys:
                if key in by_key:
                    done.append(_outcome(by_key[key], result, answered, run, backoff, window))
            if result.verdict != Verdict.DELIVERED:
                last = result
            failed = failed or result.verdict == Verdict.RETRY
    retrying = any(o.status == DeliveryStatus.RETRYING for o in done)
    return done, failed, retrying, last


def _health(destination: Destination, run: Run, failed: bool, result: Result) -> None:
    now = timezone.now()
    if failed or result.verdict == Verdict.PERMANENT:
        text = f"{result.status or 'no answer'}: {result.message}"[:500]
        Destination.objects.filter(pk=destination.pk).update(last_error=text, last_error_at=now)
    if run.delivered:
        Destination.objects.filter(pk=destination.pk).update(last_success_at=now)
