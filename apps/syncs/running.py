"""Carrying out a run: claim it, check the model's key, plan, stop for approval where the
guard rails say so, send, finish, and alert.

A run belongs to whichever worker claims it; the claim is a conditional UPDATE, so a run is
never carried out twice at once. A worker writes a heartbeat after every streamed batch; the
sweeper hands a run whose heartbeat stopped (a killed worker) to another worker, which starts
the comparison again: rows already acknowledged are unchanged and not sent again.
"""

from __future__ import annotations

import datetime as dt
import logging
import statistics

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from apps.accounts.notifications import notify
from apps.audit.services import audit_record
from apps.syncs.errors import SyncsErrorCode
from martech.common.errors import ApplicationError
from martech.common.logging import redact

from .engine.run import Runner, RunStopped, Tally
from .models import COUNTS, RunStatus, Sync, SyncMode, SyncRun, SyncRunRow

log = logging.getLogger(__name__)
FINISHED_OK = (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
USUAL_RUNS = 5  # a row count is compared with the median of this many earlier runs
FAR_FROM_USUAL = 0.5  # more than 50% away from that median


def threshold_of(sync: Sync) -> int:
    return sync.row_threshold or settings.SYNC_ROW_THRESHOLD


def guard_reasons(sync: Sync, counts: dict[str, int]) -> list[str]:
    """Why a run of ``sync`` with the planned ``counts`` needs approval (production only)."""
    if not sync.destination.is_production:
        return []
    reasons = []
    if not sync.runs.filter(status__in=FINISHED_OK, dry_run=False).exists():
        reasons.append("it is the sync's first run")
    if sync.mode == SyncMode.MIRROR and sync.approved_mode != SyncMode.MIRROR:
        reasons.append("the mode changed to mirror, which removes rows from the destination")
    touched = counts.get("added", 0) + counts.get("changed", 0) + counts.get("removed", 0)
    if touched > threshold_of(sync):
        reasons.append(f"it would touch {touched:,} rows, more than {threshold_of(sync):,}")
    return reasons


def _claim(run_id: int) -> bool:
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.SYNC_STALE_SECONDS)
    return bool(
        SyncRun.objects.filter(pk=run_id)
        .filter(
            Q(status=RunStatus.QUEUED)
            | Q(status__in=(RunStatus.PLANNING, RunStatus.RUNNING), heartbeat_at__lt=stale)
        )
        .update(
            status=RunStatus.PLANNING, heartbeat_at=now, started_at=Coalesce(F("started_at"), now)
        )
    )


def _beat(run: SyncRun, status: str, carried: dict[str, int] | None):
    """Progress after each batch; a plan (``carried`` None) records only how far it got."""

    def heartbeat(tally: Tally) -> None:
        known = {"total": tally.total} if tally.total is not None else {}
        if carried is None:
            SyncRun.objects.filter(pk=run.pk).update(
                done=tally.done, heartbeat_at=timezone.now(), **known
            )
            return
        counts = {k: tally.counts[k] + carried.get(k, 0) for k in COUNTS}
        SyncRun.objects.filter(pk=run.pk).update(
            status=status,
            done=tally.done,
            heartbeat_at=timezone.now(),
            requests=tally.requests + carried.get("requests", 0),
            **counts,
            **known,
        )

    return heartbeat


def execute(run_id: int) -> SyncRun | None:
    """Carry out run ``run_id`` if it is waiting (or its worker stopped)."""
    if not _claim(run_id):
        return None
    run = SyncRun.objects.select_related(
        "sync__model__warehouse", "sync__destination", "sync__created_by"
    ).get(pk=run_id)
    sync = run.sync
    resumed = run.added + run.changed + run.removed > 0
    carried = {k: getattr(run, k) for k in ("added", "changed", "removed", "requests")}
    try:
        if not run.dry_run and sync.is_paused:
            raise ApplicationError("The sync is paused.", code=SyncsErrorCode.SYNC_PAUSED)
        if not sync.destination.is_enabled and not run.dry_run:
            raise ApplicationError(
                f"The destination {sync.destination.name} is disabled.",
                code=SyncsErrorCode.DESTINATION_DISABLED,
            )
        planned = False
        if run.dry_run or (
            sync.destination.is_production and not run.approved_by_id and not resumed
        ):
            plan = Runner(run, heartbeat=_beat(run, RunStatus.PLANNING, None)).go(dry=True)
            run.planned, run.sample, run.total, planned = plan.counts, plan.sample, plan.total, True
            reasons = guard_reasons(sync, plan.counts)
            if run.dry_run or reasons:
                run.status = RunStatus.PLANNED if run.dry_run else RunStatus.NEEDS_APPROVAL
                run.approval_reason = "; ".join(reasons)[:300]
                run.done, run.finished_at = plan.done, timezone.now()
                with transaction.atomic():
                    run.save(
                        update_fields=[
                            "planned",
                            "sample",
                            "status",
                            "approval_reason",
                            "done",
                            "finished_at",
                            "total",
                        ]
                    )
                    if run.dry_run:
                        _audit_outcome(run, RunStatus.PLANNED, counts=plan.counts)
                if not run.dry_run:
                    _ask_approval(run, reasons)
                return run
        if not resumed:  # the plan's per-row results give way to what the run does
            SyncRunRow.objects.filter(run=run).delete()
        SyncRun.objects.filter(pk=run.pk).update(
            status=RunStatus.RUNNING, done=0, heartbeat_at=timezone.now()
        )
        tally = Runner(run, heartbeat=_beat(run, RunStatus.RUNNING, carried)).go(
            dry=False, check_key=not planned
        )
        _finish(
            run,
            tally,
            carried,
            RunStatus.PARTIAL if tally.counts["failed"] else RunStatus.SUCCEEDED,
        )
        if sync.mode == SyncMode.MIRROR or sync.approved_mode != sync.mode:
            Sync.objects.filter(pk=sync.pk).update(approved_mode=sync.mode)
    except RunStopped as exc:
        _fail(run, f"The destination kept failing, so the run stopped: {exc}")
    except ApplicationError as exc:
        _fail(run, exc.message)
    except Exception as exc:
        log.exception("sync run %s failed", run.pk)
        _fail(run, f"The run failed: {type(exc).__name__}: {exc}"[:2000])
    run.refresh_from_db()
    _alerts(run)
    return run


def _finish(run: SyncRun, tally: Tally, carried: dict[str, int], status: str) -> None:
    counts = {k: tally.counts[k] + carried.get(k, 0) for k in COUNTS}
    # rows sent before a restart come round again as unchanged: do not count them twice
    again = carried.get("added", 0) + carried.get("changed", 0)
    counts["unchanged"] = max(0, counts["unchanged"] - again)
    if tally.total is not None:
        counts["total"] = tally.total
    with transaction.atomic():  # the outcome and its audit record commit together
        SyncRun.objects.filter(pk=run.pk).update(
            status=status,
            done=tally.done,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            requests=tally.requests + carried.get("requests", 0),
            **counts,
        )
        _audit_outcome(run, status, counts=counts)


def _fail(run: SyncRun, message: str) -> None:
    with transaction.atomic():
        SyncRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=message[:2000], finished_at=timezone.now()
        )
        _audit_outcome(run, RunStatus.FAILED, error=message)


def _audit_outcome(run: SyncRun, status: str, *, counts=None, error: str = "") -> None:
    """Audit how a worker's run ended (``syncs.run.succeeded``, ``.partial``, ``.failed``,
    ``.planned``) on the sync, as the worker's system actor."""
    metadata = {"run": run.pk, "dry_run": run.dry_run, **(counts or {})}
    if error:
        metadata["error"] = redact(error)[:300]
    audit_record(action=f"syncs.run.{status}", target=run.sync, metadata=metadata)


def _recipients(sync: Sync) -> list:
    people = [sync.created_by, sync.model.owner]
    return list({p.pk: p for p in people if p is not None and p.is_active}.values())


def _ask_approval(run: SyncRun, reasons: list[str]) -> None:
    url = reverse("syncs:run_detail", args=[run.pk])
    audit_record(
        action="syncs.run.held",
        target=run.sync,
        metadata={"run": run.pk, "reasons": reasons, "planned": run.planned},
    )
    for person in _recipients(run.sync):
        notify(
            user=person,
            title=f"Sync {run.sync.name} waits for approval",
            body=f"The run was held because {' and '.join(reasons)}. Someone with "
            "syncs.run_production can look at the dry run and let it go ahead.",
            url=url,
            dedupe_key=f"syncs.run:{run.pk}:held",
        )


def _alerts(run: SyncRun) -> list[str]:
    """Alert the sync's owners when a run failed, too many rows failed, or the model's row
    count is far from usual. Returns the alerts raised."""
    if run.dry_run or run.status not in (*FINISHED_OK, RunStatus.FAILED):
        return []
    sync = run.sync
    raised: list[tuple[str, str, str]] = []
    if run.status == RunStatus.FAILED:
        raised.append(("failed", f"Sync {sync.name} failed", run.error))
    attempted = run.added + run.changed + run.removed + run.failed
    if attempted and 100 * run.failed / attempted > sync.failed_share_alert:
        share = round(100 * run.failed / attempted, 1)
        raised.append(
            (
                "invalid",
                f"Sync {sync.name}: {share}% of rows failed",
                f"{run.failed:,} of {attempted:,} rows sent failed; the run lists each "
                f"with the vendor's message (the alert is set at "
                f"{sync.failed_share_alert}%).",
            )
        )
    earlier = list(
        sync.runs.filter(status__in=FINISHED_OK, dry_run=False, total__isnull=False)
        .exclude(pk=run.pk)
        .order_by("-created_at")
        .values_list("total", flat=True)[:USUAL_RUNS]
    )
    if run.total is not None and len(earlier) >= 3:
        usual = statistics.median(earlier)
        if usual and abs(run.total - usual) > FAR_FROM_USUAL * usual:
            raised.append(
                (
                    "volume",
                    f"Sync {sync.name}: {run.total:,} rows, usually {usual:,.0f}",
                    "The model returned a row count far from its last runs; check the "
                    "query and the data it reads before the next run.",
                )
            )
    url = reverse("syncs:run_detail", args=[run.pk]) if raised else ""
    for kind, title, body in raised:
        audit_record(
            action=f"syncs.run.alert.{kind}", target=sync, metadata={"run": run.pk, "title": title}
        )
        for person in _recipients(sync):
            notify(
                user=person,
                title=title,
                body=body,
                url=url,
                dedupe_key=f"syncs.run:{run.pk}:{kind}",
            )
    return [kind for kind, _, _ in raised]


def sweep() -> int:
    """Hand runs whose worker went silent, or whose task was lost, to a worker again."""
    from .tasks import run_task

    stale = timezone.now() - dt.timedelta(seconds=settings.SYNC_STALE_SECONDS)
    lost = list(
        SyncRun.objects.filter(
            Q(status__in=(RunStatus.PLANNING, RunStatus.RUNNING), heartbeat_at__lt=stale)
            | Q(status=RunStatus.QUEUED, heartbeat_at__lt=stale)
        ).values_list("pk", flat=True)
    )
    for pk in lost:
        run_task.delay(pk)
    return len(lost)
