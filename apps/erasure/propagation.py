"""Propagation: each destination's erasure task asks the vendor's deletion API through the
destination's adapter, polls vendors that erase later until they confirm, and retries
temporary failures with backoff for ``ERASURE_RETRY_DAYS`` before it counts as failed.

Every call goes through the outbound port (``apps.destinations.outbound``): its pacing,
its one backoff policy (``ERASURE_BACKOFF``) and the egress policy: a vendor
URL, or a ``status_url`` a vendor answered with, that points at an internal address is never
fetched, and the task fails with the policy's reason. Disabled destinations are called too:
one that once received data still holds the person, and disabling it does not erase them.

A vendor's own words (an error body) are kept short and cleaned, and only on the destination
(its last error, seen by those who manage it); the task and its evidence, which everyone who
follows the request reads, say what happened by HTTP status. Receipts of a done erasure are
the vendor's words too, kept short and without credentials, since they are the evidence.

A task is claimed with a lease (a conditional UPDATE): a worker killed mid-call leaves it to
be claimed again when the lease runs out, and the call is made again (vendors' deletions are
idempotent: erasing an erased person changes nothing).

A warehouse destination has no vendor to ask: its task deletes the person's rows from every
table the destination loaded (``destinations.services.warehouse_erase``), records the rows
deleted per table as evidence, and adds the person's hashes to its ``deleted_users``; a
failing warehouse is tried again with the same backoff.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.destinations import outbound
from apps.destinations.outbound import DeletionAnswer
from apps.destinations.services import destination_vendor_error, warehouse_erase
from martech.common.errors import ApplicationError

from .models import ErasureTask, TaskKind, TaskStatus
from .services import (
    included,
    manual_due_on,
    maybe_complete,
    notify_manual_task,
    task_outcome_audit,
)

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=10)  # a claimed task is someone's for this long
UNSUPPORTED = "not supported by vendor"  # the evidence's state for identifiers it cannot erase by
DUE = (TaskStatus.PENDING, TaskStatus.AWAITING_VENDOR, TaskStatus.IN_PROGRESS)


def due_tasks(now: dt.datetime | None = None):
    now = now or timezone.now()
    return ErasureTask.objects.filter(kind=TaskKind.API, status__in=DUE, next_attempt_at__lte=now)


def _claim(task_id: int, now: dt.datetime) -> bool:
    return bool(
        ErasureTask.objects.filter(
            pk=task_id, kind=TaskKind.API, status__in=DUE, next_attempt_at__lte=now
        ).update(
            status=TaskStatus.IN_PROGRESS,
            attempts=F("attempts") + 1,
            started_at=Coalesce(F("started_at"), now),
            next_attempt_at=now + LEASE,
        )
    )


def _calls(adapter, idents) -> list[dict[str, str]]:
    """The identifier sets to erase at this vendor, so that every identifier of the person
    is sent: one call per identifier it finds people by; a vendor that needs none (the
    signed webhook) gets them all, at most one of each type per call (its documented
    ``{"type": value}``): one call for a person with one of each, and a further call for
    each second email, anonymous id or other identifier of a type already in a call."""
    if adapter.needs:
        return [{i.type: i.value} for i in idents if i.type in adapter.needs]
    calls: list[dict[str, str]] = []
    for ident in idents:
        if any(ids.get(ident.type) == ident.value for ids in calls):
            continue
        for ids in calls:
            if ident.type not in ids:
                ids[ident.type] = ident.value
                break
        else:
            calls.append({ident.type: ident.value})
    return calls


def _evidence(
    task: ErasureTask, what: str, answer: DeletionAnswer, status, vendor: outbound.Vendor
) -> None:
    task.evidence = [
        *task.evidence,
        {
            "at": timezone.now().isoformat(),
            "what": vendor.kept(what),
            "http_status": status,
            "state": answer.state,
            "receipt": vendor.kept(answer.receipt),
            "message": vendor.kept(answer.message),
        },
    ][-50:]


_SUMMARY = {
    "refused": "HTTP {status}: the vendor refused the erasure.",
    "retry": "HTTP {status}: the vendor failed for now; the erasure is tried again.",
}


def _ask(
    vendor: outbound.Vendor, request, what: str, task: ErasureTask, poll_receipt: str = ""
) -> DeletionAnswer:
    result, status = vendor.erase(request, poll_receipt=poll_receipt)
    if status is not None and result.state in _SUMMARY:
        # The vendor's words go to the destination, for those who manage it.
        if task.destination_id and result.message:
            destination_vendor_error(
                destination_id=task.destination_id,
                text=f"Erasure: {vendor.kept(result.message)}",
            )
        summary = _SUMMARY[result.state].format(status=status)
        result = dataclasses.replace(result, message=summary)
    _evidence(task, what, result, status, vendor)
    return result


def propagate(task_id: int) -> ErasureTask | None:
    """Carry out (or poll) one erasure task if it is due."""
    now = timezone.now()
    if not _claim(task_id, now):
        return None
    task = ErasureTask.objects.select_related(
        "destination", "request", "tool__technical_owner", "tool__business_owner"
    ).get(pk=task_id)
    destination = task.destination
    if destination is None:
        return _finish(task, TaskStatus.FAILED, error="The destination was deleted.")
    if outbound.adapter(destination.adapter).loads_in_batches:
        return _erase_in_warehouse(task)
    vendor = outbound.vendor_for(destination)
    adapter = vendor.adapter
    answers: list[DeletionAnswer] = []
    if task.waiting:  # the vendor erases later: ask whether it has
        for receipt in task.waiting:
            poll = vendor.erasure_poll(receipt)
            if poll is None:
                answers.append(DeletionAnswer("done", receipt=receipt))
                continue
            answers.append(_ask(vendor, poll, f"poll {receipt[:80]}", task, receipt))
    else:
        calls, unsupported = [], []
        for ids in _calls(adapter, included(task.request)):
            try:  # an adapter erases by some identifiers only (Amplitude: the user id)
                calls.append((ids, vendor.erasure(ids)))
            except ValueError as exc:
                # The vendor holds data by these identifiers but cannot erase by them: the
                # evidence says so, and it never counts as erased.
                unsupported.append(ids)
                answer = DeletionAnswer(UNSUPPORTED, message=str(exc))
                _evidence(task, "erase by " + ", ".join(sorted(ids)), answer, None, vendor)
        if not calls and unsupported:
            known = " and ".join(sorted({kind for ids in unsupported for kind in ids}))
            return _to_owner(
                task,
                f"Not supported by vendor: {task.evidence[-1]['message']}. The person is "
                f"known to {destination.name} by {known} only, which its deletion API cannot "
                "erase by.",
            )
        if not calls:
            needs = " or ".join(adapter.needs) or "an identifier"
            return _finish(
                task,
                TaskStatus.NOT_APPLICABLE,
                reason=f"{adapter.label} erases people by {needs}; this person has "
                "none it knows them by.",
            )
        for ids, request in calls:
            what = "erase by " + ", ".join(sorted(ids))
            answers.append(_ask(vendor, request, what, task))
    return _settle(task, answers)


def _erase_in_warehouse(task: ErasureTask) -> ErasureTask:
    """A warehouse destination: the person's rows are deleted from every table it loaded,
    and the evidence counts them per table. A failing warehouse is tried again like a
    vendor failing for now."""
    request = task.request
    at = request.approved_at or timezone.now()
    try:
        counts = warehouse_erase(destination=task.destination, identifiers=included(request), at=at)
    except ApplicationError as exc:
        answer = DeletionAnswer("retry", message=exc.message[:500])
        task.evidence = [*task.evidence, _warehouse_evidence(answer, {})][-50:]
        return _settle(task, [answer])
    total = sum(counts.values())
    deleted = ", ".join(f"{table} {n}" for table, n in counts.items() if n) or "none found"
    answer = DeletionAnswer("done", receipt=f"{total} rows deleted from the warehouse ({deleted})")
    task.evidence = [*task.evidence, _warehouse_evidence(answer, counts)][-50:]
    return _settle(task, [answer])


def _warehouse_evidence(answer: DeletionAnswer, counts: dict[str, int]) -> dict:
    return {
        "at": timezone.now().isoformat(),
        "what": "delete the person's rows from every loaded table",
        "http_status": None,
        "state": answer.state,
        "receipt": answer.receipt[:300],
        "message": answer.message,
        "rows_deleted": counts,
    }


def _settle(task: ErasureTask, answers: list[DeletionAnswer]) -> ErasureTask:
    now = timezone.now()
    refused = [a for a in answers if a.state == "refused"]
    retry = [a for a in answers if a.state == "retry"]
    waiting = [a.receipt for a in answers if a.state == "waiting"]
    if refused:
        return _finish(task, TaskStatus.FAILED, error=refused[0].message)
    if retry:
        window = dt.timedelta(days=settings.ERASURE_RETRY_DAYS)
        if now - (task.started_at or now) > window:
            return _finish(
                task,
                TaskStatus.FAILED,
                error=f"Still failing after {settings.ERASURE_RETRY_DAYS:g} days: "
                f"{retry[0].message}",
            )
        wait = outbound.ERASURE_BACKOFF.wait(
            task.attempts, max((a.retry_after or 0) for a in retry)
        )
        ErasureTask.objects.filter(pk=task.pk).update(
            status=TaskStatus.PENDING,
            next_attempt_at=now + dt.timedelta(seconds=wait),
            last_error=retry[0].message[:2000],
            evidence=task.evidence,
        )
        return task
    if waiting:
        ErasureTask.objects.filter(pk=task.pk).update(
            status=TaskStatus.AWAITING_VENDOR,
            waiting=waiting,
            receipt="; ".join(waiting)[:300],
            next_attempt_at=now + dt.timedelta(seconds=settings.ERASURE_POLL_SECONDS),
            evidence=task.evidence,
            last_error="",
        )
        return task
    receipts = "; ".join(a.receipt for a in answers if a.receipt)[:300]
    return _finish(task, TaskStatus.DONE, receipt=receipts)


def _finish(
    task: ErasureTask, status: str, *, error: str = "", reason: str = "", receipt: str = ""
) -> ErasureTask:
    fields = {
        "status": status,
        "finished_at": timezone.now(),
        "next_attempt_at": None,
        "evidence": task.evidence,
        "waiting": [],
    }
    if error:
        fields["last_error"] = error[:2000]
    if reason:
        fields["reason"] = reason
    if receipt:
        fields["receipt"], fields["last_error"] = receipt, ""
    with transaction.atomic():  # the outcome and its audit record commit together
        ErasureTask.objects.filter(pk=task.pk).update(**fields)
        task_outcome_audit(task, status, error=error, reason=reason, receipt=receipt)
    if status != TaskStatus.FAILED:
        maybe_complete(task.request)
    else:
        from .alerts import task_failed

        task_failed(task)
    return task


def _to_owner(task: ErasureTask, why: str) -> ErasureTask:
    """The vendor's API cannot erase this person: the tool's owner erases them by hand and
    confirms, as for a tool without a deletion API, and the request waits for that."""
    tool = task.tool
    task.assignee = (tool.technical_owner or tool.business_owner) if tool else None
    task.status, task.last_error = TaskStatus.MANUAL, why[:2000]
    task.due_on = manual_due_on(task.request)
    with transaction.atomic():  # the hand-over and its audit record commit together
        ErasureTask.objects.filter(pk=task.pk).update(
            status=task.status,
            assignee=task.assignee,
            due_on=task.due_on,
            last_error=task.last_error,
            next_attempt_at=None,
            waiting=[],
            evidence=task.evidence,
        )
        task_outcome_audit(task, "handed_to_owner", error=why)
        notify_manual_task(task)
    return task


def stale_in_progress(now: dt.datetime | None = None):
    """Tasks a worker claimed and never finished (its lease ran out)."""
    now = now or timezone.now()
    return ErasureTask.objects.filter(Q(status=TaskStatus.IN_PROGRESS), next_attempt_at__lte=now)
