"""Erasure requests: log, verify, approve (suppress, erase here, propagate), extend, and the
per-tool tasks' retries and confirmations. Every step is audited."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.access.rules import require, user_can
from apps.audit.services import audit_record
from apps.erasure.errors import ErasureErrorCode
from apps.identity.errors import IdentityErrorCode
from apps.identity.normalise import Ident, InvalidIdentifier, normalise
from apps.identity.selectors import identifier_resolve
from martech.common import crypto, sharedcache
from martech.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from martech.common.logging import redact

from .local import erase_locally
from .models import (
    OPEN,
    Decision,
    ErasureIdentifier,
    ErasureRequest,
    ErasureTask,
    IdentifierOrigin,
    Jurisdiction,
    RequestStatus,
    Suppression,
    TaskKind,
    TaskStatus,
)
from .scrub import Finder, scrub
from .suppression import digest, mask
from .suppression import forget as forget_suppressions

log = logging.getLogger(__name__)
RETENTION = relativedelta(months=24)  # what the request keeps, kept this long after completion
MANUAL_DAYS = 14  # a tool owner's time to erase by hand


def _said(text: str) -> str:
    """What the append-only audit log keeps of a free-text note about an erasure: that one was
    written and how long, never its words, which may name the person (the request keeps the
    words until completion, with the person's identifiers scrubbed)."""
    text = (text or "").strip()
    return f"written ({len(text)} characters, kept on the request)" if text else ""


def deadline_for(jurisdiction: str, received_on: dt.date) -> dt.date:
    """One month under GDPR (Art. 12(3)); 45 days under CCPA."""
    if jurisdiction == Jurisdiction.CCPA:
        return received_on + dt.timedelta(days=45)
    return received_on + relativedelta(months=1)


def extension_for(request: ErasureRequest) -> dt.date:
    """By two further months under GDPR; to 90 days in all under CCPA."""
    if request.jurisdiction == Jurisdiction.CCPA:
        return request.received_on + dt.timedelta(days=90)
    return request.deadline + relativedelta(months=2)


def _parse(identifier) -> Ident:
    """``identifier`` as an Ident: typed text is read as every identifier field reads it
    (``type:value``, or a bare value whose type is clear; see ``identifier_resolve``)."""
    if isinstance(identifier, Ident):
        return identifier
    try:
        if isinstance(identifier, tuple | list):
            return normalise(*identifier)
        return identifier_resolve(str(identifier))
    except InvalidIdentifier as exc:
        # an ambiguous value asks for its type: it is not refused
        ambiguous = exc.code == IdentityErrorCode.AMBIGUOUS_IDENTIFIER
        raise ApplicationError(
            exc.message,
            code=exc.code if ambiguous else ErasureErrorCode.INVALID_IDENTIFIER,
            details=exc.details if ambiguous else None,
        ) from None


def _reference(request: ErasureRequest) -> str:
    """From the row's id: unique even for requests logged at the same moment or after older
    ones were purged (a count of this year's requests would repeat)."""
    return f"ER-{request.received_on:%Y}-{request.pk:05d}"


def _open_with(hashes: set[str]) -> ErasureRequest | None:
    return (
        ErasureRequest.objects.filter(status__in=OPEN)
        .filter(Q(subject_hash__in=hashes) | Q(identifiers__value_hash__in=hashes))
        .order_by("created_at")
        .first()
    )


@transaction.atomic
def request_create(
    *,
    actor,
    identifier,
    channel: str,
    jurisdiction: str,
    received_on: dt.date | None = None,
    notes: str = "",
) -> ErasureRequest:
    """Log a request. A request about someone who already has an open one is recorded as its
    duplicate and linked to it (nothing more is done for it)."""
    require(actor, "erasure.request", "log erasure requests")
    ident = _parse(identifier)
    if jurisdiction not in Jurisdiction.values:
        raise ApplicationError(
            "The jurisdiction is gdpr or ccpa.", code=ErasureErrorCode.INVALID_JURISDICTION
        )
    received_on = received_on or timezone.localdate()
    if received_on > timezone.localdate():
        raise ApplicationError(
            "The request cannot be received in the future.", code=ErasureErrorCode.INVALID_DATE
        )
    hashed = digest(ident.type, ident.value)
    original = _open_with({hashed})
    request = ErasureRequest.objects.create(
        reference=f"new-{uuid.uuid4().hex[:16]}",
        subject_type=ident.type,
        subject_hash=hashed,
        subject_masked=mask(ident),
        subject_token=crypto.encrypt({"value": ident.value}),
        channel=channel,
        jurisdiction=jurisdiction,
        received_on=received_on,
        deadline=deadline_for(jurisdiction, received_on),
        notes=notes,
        created_by=actor,
        status=RequestStatus.DUPLICATE if original else RequestStatus.RECEIVED,
        duplicate_of=original,
    )
    request.reference = _reference(request)
    request.save(update_fields=["reference"])
    ErasureIdentifier.objects.create(
        request=request,
        type=ident.type,
        value_hash=hashed,
        masked=mask(ident),
        token=crypto.encrypt({"value": ident.value}),
        origin=IdentifierOrigin.REQUESTED,
        decision=Decision.INCLUDED,
    )
    audit_record(
        action="erasure.request.created",
        target=request,
        metadata={
            "subject": f"{ident.type}:{mask(ident)}",
            "channel": channel,
            "jurisdiction": jurisdiction,
            "deadline": str(request.deadline),
            "duplicate_of": original.reference if original else None,
        },
    )
    return request


def _locked(request: ErasureRequest) -> ErasureRequest:
    return ErasureRequest.objects.select_for_update().get(pk=request.pk)


@transaction.atomic
def request_verify(*, actor, request: ErasureRequest, note: str = "") -> ErasureRequest:
    """The requester is who they say they are (how: ``note``)."""
    require(actor, "erasure.request", "verify erasure requests")
    request = _locked(request)
    if request.status != RequestStatus.RECEIVED:
        raise ConflictError(
            f"The request is {request.get_status_display().lower()}.",
            code=ErasureErrorCode.NOT_RECEIVED,
        )
    request.status, request.verified_by, request.verified_at = (
        RequestStatus.VERIFIED,
        actor,
        timezone.now(),
    )
    request.verification_note = note
    request.save(update_fields=["status", "verified_by", "verified_at", "verification_note"])
    audit_record(action="erasure.request.verified", target=request, metadata={"note": _said(note)})
    return request


@transaction.atomic
def request_extend(*, actor, request: ErasureRequest, reason: str) -> ErasureRequest:
    require(actor, "erasure.request", "extend erasure deadlines")
    request = _locked(request)
    if not reason.strip():
        raise ApplicationError(
            "Say why the deadline is extended; the law asks for a reason.",
            code=ErasureErrorCode.REASON_REQUIRED,
        )
    if request.extended_deadline:
        raise ConflictError(
            "The deadline was extended already.", code=ErasureErrorCode.ALREADY_EXTENDED
        )
    if not request.is_open:
        raise ConflictError("Only an open request can be extended.", code=ErasureErrorCode.NOT_OPEN)
    request.extended_deadline, request.extension_reason = extension_for(request), reason
    request.save(update_fields=["extended_deadline", "extension_reason"])
    audit_record(
        action="erasure.request.extended",
        target=request,
        metadata={"until": str(request.extended_deadline), "reason": _said(reason)},
    )
    return request


def expand(ident: Ident) -> tuple[list[Ident], list[Ident]]:
    """The person's identifiers through the identity graph: every identifier of the profile
    (deterministic: the profile is one person), and those linked only by a probabilistic
    link that did not merge (for a person to decide)."""
    from apps.identity.choices import LinkKind
    from apps.identity.models import Identifier, Link

    found = Identifier.objects.filter(type=ident.type, value=ident.value).first()
    if found is None:
        return [ident], []
    members = list(Identifier.objects.filter(profile_id=found.profile_id))
    sure = {Ident(i.type, i.value) for i in members} | {ident}
    ids = [i.pk for i in members]
    maybe: set[Ident] = set()
    for link in Link.objects.filter(
        Q(a_id__in=ids) | Q(b_id__in=ids), kind=LinkKind.PROBABILISTIC
    ).select_related("a", "b"):
        for side in (link.a, link.b):
            other = Ident(side.type, side.value)
            if other not in sure:
                maybe.add(other)
    return sorted(sure), sorted(maybe)


def _suppress(request: ErasureRequest, idents: list[Ident]) -> int:
    rows = [
        Suppression(value_hash=digest(i.type, i.value), type=i.type, request=request)
        for i in idents
    ]
    Suppression.objects.bulk_create(rows, ignore_conflicts=True)
    forget_suppressions()
    return len(rows)


def _record_identifiers(
    request: ErasureRequest, idents: list[Ident], origin: str, decision: str
) -> None:
    ErasureIdentifier.objects.bulk_create(
        [
            ErasureIdentifier(
                request=request,
                type=i.type,
                value_hash=digest(i.type, i.value),
                masked=mask(i),
                token=crypto.encrypt({"value": i.value}),
                origin=origin,
                decision=decision,
            )
            for i in idents
        ],
        ignore_conflicts=True,
    )


def included(request: ErasureRequest) -> list[Ident]:
    """The identifiers being erased (decrypted; only while the request is open)."""
    return [
        Ident(i.type, crypto.decrypt(i.token).get("value", ""))
        for i in request.identifiers.filter(decision=Decision.INCLUDED).exclude(token="")
    ]


NEVER_RECEIVED = "Disabled and never received data: no delivery or sync was ever sent to it."


def _never_received(destinations) -> set[int]:
    """The destinations that cannot hold the person's data: disabled, with no delivery record
    and no sync row or run ever sent to them (a destination created and never used). An
    enabled one may receive data at any moment, so it is always asked."""
    from apps.destinations.selectors import destinations_sent_to
    from apps.syncs.selectors import destinations_synced_to

    disabled = {d.pk for d in destinations if not d.is_enabled}
    if not disabled:
        return set()
    return disabled - destinations_sent_to(disabled) - destinations_synced_to(disabled)


def _tasks(request: ErasureRequest) -> list[ErasureTask]:
    """One task per destination that may hold the person's data and per registry tool holding
    personal data: the deletion API where the destination's adapter has one, otherwise a
    manual task for the owner. A destination that never received data gets no task (and no
    call with the person's identifiers); the request records it as not asked, and why. Runs
    before the local erasure, which deletes the person's sync row states."""
    from apps.destinations import outbound
    from apps.destinations.models import Destination
    from apps.tools.models import Tool

    today = timezone.localdate()
    due = min(request.due, today + dt.timedelta(days=MANUAL_DAYS))
    tasks, covered = [], set()
    destinations = list(
        Destination.objects.select_related(
            "tool__technical_owner", "tool__business_owner"
        ).order_by("name")
    )
    unused = _never_received(destinations)
    request.not_asked = [
        {"destination": d.name, "reason": NEVER_RECEIVED} for d in destinations if d.pk in unused
    ]
    for destination in destinations:
        if destination.pk in unused:
            continue  # its tool is asked as a registry tool if it holds personal data itself
        covered.add(destination.tool_id)
        adapter = outbound.adapter(destination.adapter)
        owner = destination.tool.technical_owner or destination.tool.business_owner
        if adapter is not None and "deletion" in adapter.supports:
            tasks.append(
                ErasureTask(
                    request=request,
                    kind=TaskKind.API,
                    destination=destination,
                    tool=destination.tool,
                    name=destination.name,
                    status=TaskStatus.PENDING,
                    next_attempt_at=timezone.now(),
                )
            )
        else:
            tasks.append(
                ErasureTask(
                    request=request,
                    kind=TaskKind.MANUAL,
                    destination=destination,
                    tool=destination.tool,
                    name=destination.name,
                    status=TaskStatus.MANUAL,
                    assignee=owner,
                    due_on=due,
                )
            )
    tools = Tool.objects.select_related("technical_owner", "business_owner").exclude(pk__in=covered)
    for tool in tools.exclude(status="retired").order_by("name"):
        if not tool.data_categories:
            continue
        tasks.append(
            ErasureTask(
                request=request,
                kind=TaskKind.MANUAL,
                tool=tool,
                name=tool.name,
                status=TaskStatus.MANUAL,
                due_on=due,
                assignee=tool.technical_owner or tool.business_owner,
            )
        )
    return ErasureTask.objects.bulk_create(tasks)


@transaction.atomic
def request_approve(*, actor, request: ErasureRequest) -> ErasureRequest:
    """Suppress every identifier of the person at once, erase them here, and start one task
    per tool, all in this transaction (the tasks are sent once it commits)."""
    require(actor, "erasure.approve", "approve erasure")
    request = _locked(request)
    if request.status != RequestStatus.VERIFIED:
        raise ConflictError(
            "Only a verified request can be approved.", code=ErasureErrorCode.NOT_VERIFIED
        )
    subject = Ident(request.subject_type, crypto.decrypt(request.subject_token).get("value", ""))
    sure, maybe = expand(subject)
    _record_identifiers(
        request,
        [i for i in sure if i != subject],
        IdentifierOrigin.DETERMINISTIC,
        Decision.INCLUDED,
    )
    _record_identifiers(request, maybe, IdentifierOrigin.PROBABILISTIC, Decision.PENDING)
    suppressed = _suppress(request, sure)
    tasks = _tasks(request)  # before the local erasure: it deletes the person's sync row states
    request.local_erasure = {**erase_locally(sure), **scrub(sure)}
    request.status, request.approved_by, request.approved_at = (
        RequestStatus.IN_PROGRESS,
        actor,
        timezone.now(),
    )
    request.save(
        update_fields=["status", "approved_by", "approved_at", "local_erasure", "not_asked"]
    )
    audit_record(
        action="erasure.request.approved",
        target=request,
        metadata={
            "identifiers": len(sure),
            "possible_matches": len(maybe),
            "suppressed": suppressed,
            "local": request.local_erasure,
            "tasks": len(tasks),
            "not_asked": [entry["destination"] for entry in request.not_asked][:100],
        },
    )
    _kick()
    _notify_manual(request)
    maybe_complete(request)
    return request


@transaction.atomic
def identifier_decide(*, actor, identifier: ErasureIdentifier, include: bool) -> ErasureIdentifier:
    """Decide a possible match: include it (suppressed and erased everywhere too) or not."""
    require(actor, "erasure.approve", "decide possible matches")
    identifier = ErasureIdentifier.objects.select_for_update().get(pk=identifier.pk)
    request = _locked(identifier.request)
    if identifier.decision != Decision.PENDING or not request.is_open:
        raise ConflictError(
            "This match was decided already.", code=ErasureErrorCode.ALREADY_DECIDED
        )
    identifier.decision = Decision.INCLUDED if include else Decision.EXCLUDED
    identifier.decided_by = actor
    identifier.save(update_fields=["decision", "decided_by"])
    if include:
        ident = Ident(identifier.type, crypto.decrypt(identifier.token).get("value", ""))
        _suppress(request, [ident])
        erased = {**erase_locally([ident]), **scrub([ident])}
        # the tools are asked again, now with this identifier too (deletions are idempotent)
        request.tasks.filter(kind=TaskKind.API).exclude(status=TaskStatus.NOT_APPLICABLE).update(
            status=TaskStatus.PENDING, next_attempt_at=timezone.now(), finished_at=None
        )
        _kick()
    else:
        identifier.token = ""
        identifier.save(update_fields=["token"])
        erased = {}
    audit_record(
        action="erasure.identifier.decided",
        target=request,
        metadata={
            "identifier": f"{identifier.type}:{identifier.masked}",
            "include": include,
            "local": erased,
        },
    )
    maybe_complete(request)
    return identifier


def _task_locked(task: ErasureTask) -> ErasureTask:
    return ErasureTask.objects.select_for_update().select_related("request").get(pk=task.pk)


@transaction.atomic
def task_retry(*, actor, task: ErasureTask) -> ErasureTask:
    require(actor, "erasure.request", "retry erasure tasks")
    task = _task_locked(task)
    if task.status != TaskStatus.FAILED:
        raise ConflictError("Only a failed task can be retried.", code=ErasureErrorCode.NOT_FAILED)
    task.status, task.next_attempt_at, task.attempts = TaskStatus.PENDING, timezone.now(), 0
    task.save(update_fields=["status", "next_attempt_at", "attempts"])
    audit_record(action="erasure.task.retried", target=task.request, metadata={"task": task.name})
    _kick()
    return task


@transaction.atomic
def task_confirm(*, actor, task: ErasureTask, note: str) -> ErasureTask:
    """The owner erased the person by hand in the tool (how: ``note``)."""
    task = _task_locked(task)
    if task.assignee_id != getattr(actor, "pk", None) and not user_can(actor, "erasure.approve"):
        require(actor, "erasure.request", "confirm manual erasure tasks")
        if task.assignee_id is not None:
            raise PermissionDeniedError("Only the task's owner or a privacy approver confirms it.")
    if task.status != TaskStatus.MANUAL:
        raise ConflictError(
            "Only a manual task waiting for its owner can be confirmed.",
            code=ErasureErrorCode.NOT_MANUAL,
        )
    if not note.strip():
        raise ApplicationError(
            "Say how it was erased (the evidence keeps it).", code=ErasureErrorCode.NOTE_REQUIRED
        )
    task.status, task.confirmed_by, task.confirmation = TaskStatus.DONE, actor, note
    task.finished_at = timezone.now()
    task.save(update_fields=["status", "confirmed_by", "confirmation", "finished_at"])
    audit_record(
        action="erasure.task.confirmed",
        target=task.request,
        metadata={"task": task.name, "note": _said(note)},
    )
    maybe_complete(task.request)
    return task


@transaction.atomic
def task_not_applicable(*, actor, task: ErasureTask, reason: str) -> ErasureTask:
    require(actor, "erasure.approve", "mark erasure tasks not applicable")
    task = _task_locked(task)
    if task.is_finished:
        raise ConflictError("The task is finished already.", code=ErasureErrorCode.FINISHED)
    if not reason.strip():
        raise ApplicationError("Say why it does not apply.", code=ErasureErrorCode.REASON_REQUIRED)
    task.status, task.reason, task.finished_at = TaskStatus.NOT_APPLICABLE, reason, timezone.now()
    task.save(update_fields=["status", "reason", "finished_at"])
    audit_record(
        action="erasure.task.not_applicable",
        target=task.request,
        metadata={"task": task.name, "reason": _said(reason)},
    )
    maybe_complete(task.request)
    return task


def task_outcome_audit(
    task: ErasureTask, status: str, *, error: str = "", reason: str = "", receipt: str = ""
) -> None:
    """Audit what a worker concluded for one erasure task: ``erasure.task.done``,
    ``.failed`` (the vendor refused, retries ran out, the destination is gone) or
    ``.not_applicable``, on the request, as the worker's system actor."""
    metadata = {
        "task": task.name,
        "task_id": task.pk,
        "kind": task.kind,
        "attempts": task.attempts,
    }
    if receipt:
        metadata["receipt"] = receipt[:300]
    if reason:
        metadata["reason"] = reason[:300]
    if error:
        metadata["error"] = redact(error)[:300]
    audit_record(action=f"erasure.task.{status}", target=task.request, metadata=metadata)


def maybe_complete(request: ErasureRequest) -> bool:
    """Complete the request when every task is done or not applicable and every possible
    match is decided. Then what could name the person goes: the identifiers (only their
    hashes stay), their masks, and the free-text notes (the request's and its verification
    note); the identifiers are scrubbed once more from what the console keeps as text (what
    was written about the person while the tools were asked), and from the tasks' receipts,
    errors, confirmations and evidence and the extension reason, which are kept. The
    duplicates it settled lose theirs too. One transaction, the request row locked."""
    with transaction.atomic():
        request = _locked(request)
        if request.status != RequestStatus.IN_PROGRESS:
            return False
        if request.tasks.exclude(status__in=(TaskStatus.DONE, TaskStatus.NOT_APPLICABLE)).exists():
            return False
        if request.identifiers.filter(decision=Decision.PENDING).exists():
            return False
        idents = included(request)
        scrubbed = {**scrub(idents), **_forget_in_tasks(request, Finder(idents))}
        local = dict(request.local_erasure or {})
        for what, n in scrubbed.items():
            local[what] = local.get(what, 0) + n
        retain_until = timezone.localdate() + RETENTION
        forgotten = {
            "subject_token": "",
            "subject_masked": "",
            "notes": "",
            "verification_note": "",
            "retain_until": retain_until,
        }
        ErasureRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.COMPLETED,
            completed_at=timezone.now(),
            local_erasure=local,
            **forgotten,
        )
        request.identifiers.update(token="", masked="")
        request.tasks.update(waiting=[])
        # its duplicates were settled by this request: they drop what names the person too
        ErasureRequest.objects.filter(duplicate_of=request).update(**forgotten)
        ErasureIdentifier.objects.filter(request__duplicate_of=request).update(token="", masked="")
        audit_record(
            action="erasure.request.completed",
            target=request,
            metadata={"days": (timezone.localdate() - request.received_on).days, **scrubbed},
        )
    return True


def _forget_in_tasks(request: ErasureRequest, finder: Finder) -> dict[str, int]:
    """Replace the person's identifiers in what the request keeps as evidence: the tasks'
    receipts, errors, confirmations, reasons and evidence, and the extension reason."""
    if not finder:
        return {}
    cleaned = 0
    for task in request.tasks.all():
        fields = {
            "receipt": finder.clean(task.receipt)[:300],
            "last_error": finder.clean(task.last_error),
            "confirmation": finder.clean(task.confirmation),
            "reason": finder.clean(task.reason),
            "evidence": finder.clean_json(task.evidence),
        }
        changed = {name: v for name, v in fields.items() if v != getattr(task, name)}
        if changed:
            ErasureTask.objects.filter(pk=task.pk).update(**changed)
            cleaned += 1
    reason = finder.clean(request.extension_reason)
    if reason != request.extension_reason:
        ErasureRequest.objects.filter(pk=request.pk).update(extension_reason=reason)
        cleaned += 1
    return {"evidence texts scrubbed": cleaned} if cleaned else {}


def _send_dispatch() -> None:
    from .tasks import dispatch_task

    dispatch_task.delay()


# The tasks are stored as due; the beat dispatches them anyway.
_nudge = sharedcache.Nudge("erasure:kick", _send_dispatch)


def _kick() -> None:
    transaction.on_commit(_nudge)


def manual_due_on(request: ErasureRequest) -> dt.date:
    """When a tool's owner is to have erased the person by hand."""
    return min(request.due, timezone.localdate() + dt.timedelta(days=MANUAL_DAYS))


def _notify_manual(request: ErasureRequest) -> None:
    manual = request.tasks.filter(status=TaskStatus.MANUAL, assignee__isnull=False)
    for task in manual.select_related("assignee"):
        notify_manual_task(task)


def notify_manual_task(task: ErasureTask) -> None:
    """Tell the owner of a manual task (once) what to erase, where and by when."""
    from django.urls import reverse

    from apps.accounts.notifications import notify

    request = task.request
    # a tool without a deletion API, or a vendor whose API cannot erase this person (why)
    why = task.last_error or f"{task.name} has no deletion API the console can call."
    if task.assignee_id:
        notify(
            user=task.assignee,
            title=f"Erase a person from {task.name} by {task.due_on}",
            body=f"Erasure request {request.reference}: {why} Erase the person there, then "
            "confirm on the task's page.",
            # the task's own page: its owner may not see erasure requests
            url=reverse("erasure:task_detail", args=[task.pk]),
            dedupe_key=f"erasure.task:{task.pk}:assigned",
        )


def requests_purge(today: dt.date | None = None) -> int:
    """Delete completed requests (and the duplicates they settled) whose retention has run
    out, 24 months after completion: the hashes, dates and names they kept go with them. The
    suppression list stays, so the person is never collected again. Returns how many."""
    today = today or timezone.localdate()
    expired = ErasureRequest.objects.filter(
        status__in=(RequestStatus.COMPLETED, RequestStatus.DUPLICATE), retain_until__lt=today
    )
    references = list(expired.values_list("reference", flat=True))
    if not references:
        return 0
    ErasureRequest.objects.filter(reference__in=references).delete()
    audit_record(
        action="erasure.request.purged",
        metadata={"references": references[:500], "count": len(references)},
    )
    return len(references)


def identifiers_rotate() -> int:
    """Re-encrypt the identifiers of every open request (its subject and each identifier
    found) with the newest credential key; returns how many values were re-encrypted."""
    count = 0
    with transaction.atomic():
        for request in ErasureRequest.objects.select_for_update().exclude(subject_token=""):
            request.subject_token = crypto.rotate(request.subject_token)
            request.save(update_fields=["subject_token"])
            count += 1
        for identifier in ErasureIdentifier.objects.select_for_update().exclude(token=""):
            identifier.token = crypto.rotate(identifier.token)
            identifier.save(update_fields=["token"])
            count += 1
    return count
