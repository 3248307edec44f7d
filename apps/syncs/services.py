"""Writes of warehouses and models. A warehouse's credentials are write-only: checked by
the engine of its kind, stored encrypted, audited as the names of the fields that changed
and the line the engine shows in their place (host, account, database: never a secret)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.access.rules import require
from apps.audit.services import audit_record, audit_snapshot
from apps.destinations import outbound
from apps.syncs.errors import SyncsErrorCode
from martech.common import crypto
from martech.common.errors import ApplicationError, ConflictError

from .engine import warehouse as engine
from .engine.sql import check_sql
from .models import (
    ACTIVE_RUN,
    DbtManifest,
    RunStatus,
    ScheduleKind,
    SqlModel,
    Sync,
    SyncMode,
    SyncObject,
    SyncRun,
    Warehouse,
)
from .warehouses import MODULES, engine_for

log = logging.getLogger(__name__)

WAREHOUSE_FIELDS = ("name", "kind", "display", "statement_timeout", "description")
MODEL_FIELDS = ("name", "warehouse", "sql", "primary_key", "description")


def _validate_warehouse(warehouse: Warehouse) -> None:
    if not warehouse.name.strip():
        raise ApplicationError("A warehouse needs a name.", code=SyncsErrorCode.INVALID_NAME)
    if warehouse.kind not in MODULES:
        raise ApplicationError(
            f"Kind is one of {', '.join(MODULES)}.",
            code=SyncsErrorCode.INVALID_KIND,
            details={"field": "kind"},
        )
    if not 1 <= int(warehouse.statement_timeout) <= 3600:
        raise ApplicationError(
            "The statement timeout is 1 to 3600 seconds.", code=SyncsErrorCode.INVALID_TIMEOUT
        )
    _check_description(warehouse.description)


# What a description may hold: a few paragraphs, not a document.
MAX_DESCRIPTION = 2000


def _check_description(text: str) -> None:
    if len(text or "") > MAX_DESCRIPTION:
        raise ApplicationError(
            f"A description is at most {MAX_DESCRIPTION:,} characters.",
            code=SyncsErrorCode.INVALID_DESCRIPTION,
            details={"field": "description"},
        )


def _set_credentials(
    warehouse: Warehouse, credentials: dict | None, *, previous: dict | None
) -> list[str]:
    """Check ``credentials`` with the engine of the warehouse's kind (a secret left blank
    keeps ``previous``'s) and store them; the names of the fields that changed. ``None``
    keeps what is stored."""
    engine = engine_for(warehouse.kind)
    if credentials is None and previous is not None:
        return []
    given = {
        name: value if isinstance(value, str) else str(value)
        for name, value in (credentials or {}).items()
        if value is not None
    }
    known = {field.name for field in engine.fields}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ApplicationError(
            f"A {engine.label} warehouse does not take {', '.join(unknown)}; it takes "
            f"{', '.join(sorted(known)) or 'no credentials'}.",
            code=SyncsErrorCode.INVALID_CREDENTIALS,
            details={"field": unknown[0]},
        )
    cleaned = engine.clean(given, previous)
    before = previous or {}
    warehouse.dsn_token = crypto.encrypt(cleaned.credentials) if cleaned.credentials else ""
    warehouse.display = cleaned.display[:300]
    return sorted(
        name
        for name in set(cleaned.credentials) | set(before)
        if cleaned.credentials.get(name) != before.get(name)
    )


def _credentials(dsn: str | None, credentials: dict | None) -> dict | None:
    """``dsn=`` is shorthand for ``credentials={"dsn": …}`` (PostgreSQL, Redshift)."""
    if dsn:
        return {**(credentials or {}), "dsn": dsn}
    return credentials


@transaction.atomic
def warehouse_create(
    *, actor, credentials: dict | None = None, dsn: str | None = None, **fields
) -> Warehouse:
    require(actor, "syncs.manage", "connect warehouses")
    warehouse = Warehouse(created_by=actor, **fields)
    _validate_warehouse(warehouse)
    _set_credentials(warehouse, _credentials(dsn, credentials) or {}, previous=None)
    if Warehouse.objects.filter(name__iexact=warehouse.name).exists():
        raise ConflictError(
            f"A warehouse named {warehouse.name!r} exists.", code=SyncsErrorCode.DUPLICATE
        )
    warehouse.save()
    audit_record(
        action="syncs.warehouse.created",
        target=warehouse,
        after=audit_snapshot(warehouse, WAREHOUSE_FIELDS),
    )
    return warehouse


@transaction.atomic
def _kind_change_allowed(warehouse: Warehouse, was: str) -> None:
    """A warehouse keeps its kind while models read it (their SQL is in its dialect) or a
    destination loads into it, and never becomes, or stops being, the console's database."""
    if "console" in (was, warehouse.kind):
        raise ApplicationError(
            "The console's own database is a kind of its own: connect another warehouse "
            "instead of changing this one.",
            code=SyncsErrorCode.INVALID_KIND,
            details={"field": "kind"},
        )
    from apps.destinations.selectors import destinations_loading_into

    users = [m.name for m in warehouse.models.all()[:3]]
    users += [d.name for d in destinations_loading_into(warehouse)[:3]]
    if users:
        raise ApplicationError(
            f"{', '.join(users)} use{'s' if len(users) == 1 else ''} this warehouse as it is: "
            "connect the other kind as a new warehouse.",
            code=SyncsErrorCode.INVALID_KIND,
            details={"field": "kind"},
        )


def warehouse_update(
    *,
    actor,
    warehouse: Warehouse,
    credentials: dict | None = None,
    dsn: str | None = None,
    **changes,
) -> Warehouse:
    """Change a warehouse; ``credentials`` are checked again by its engine, a secret left
    blank keeping the one stored. A new kind starts from no credentials."""
    require(actor, "syncs.manage", "change warehouses")
    warehouse = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
    before = audit_snapshot(warehouse, WAREHOUSE_FIELDS)
    kind = warehouse.kind
    for key, value in changes.items():
        if key not in WAREHOUSE_FIELDS or key == "display":
            raise ValueError(key)
        setattr(warehouse, key, value)
    _validate_warehouse(warehouse)
    if warehouse.kind != kind:
        _kind_change_allowed(warehouse, kind)
    previous = engine.credentials_of(warehouse) if warehouse.kind == kind else None
    credentials = _credentials(dsn, credentials)
    if previous is None and credentials is None:
        credentials = {}
    changed = _set_credentials(warehouse, credentials, previous=previous)
    try:
        with transaction.atomic():
            warehouse.save()
    except IntegrityError:
        raise ConflictError(
            "A warehouse with that name exists.", code=SyncsErrorCode.DUPLICATE
        ) from None
    audit_record(
        action="syncs.warehouse.updated",
        target=warehouse,
        before=before,
        after=audit_snapshot(warehouse, WAREHOUSE_FIELDS),
        metadata={"credentials_changed": changed},
    )
    return warehouse


def warehouse_test(*, actor, warehouse: Warehouse) -> tuple[bool, str]:
    """Connect, read-only, and ask the server what it is; the outcome is kept and audited."""
    require(actor, "syncs.manage", "test warehouse connections")
    try:
        ok, message = True, engine.test_connection(warehouse)
    except ApplicationError as exc:
        ok, message = False, exc.message
    Warehouse.objects.filter(pk=warehouse.pk).update(
        last_tested_at=timezone.now(), last_test_ok=ok, last_test_message=message[:500]
    )
    audit_record(
        action="syncs.warehouse.tested",
        target=warehouse,
        metadata={"ok": ok, "message": message[:500]},
    )
    return ok, message


def _validate_model(model: SqlModel) -> None:
    if not model.name.strip():
        raise ApplicationError("A model needs a name.", code=SyncsErrorCode.INVALID_NAME)
    model.sql = check_sql(model.sql)
    model.primary_key = (model.primary_key or "").strip()
    if not model.primary_key:
        raise ApplicationError(
            "Name the primary-key column.", code=SyncsErrorCode.INVALID_PRIMARY_KEY
        )
    shown = engine.preview(model.warehouse, model.sql, limit=1)
    names = [c["name"] for c in shown.columns]
    if model.primary_key not in names:
        raise ApplicationError(
            f"The query has no column {model.primary_key!r}; it has {', '.join(names)}.",
            code=SyncsErrorCode.INVALID_PRIMARY_KEY,
        )
    model.columns = shown.columns


@transaction.atomic
def model_create(*, actor, **fields) -> SqlModel:
    require(actor, "syncs.manage", "write models")
    model = SqlModel(**{"owner": actor, **fields})
    _validate_model(model)
    if SqlModel.objects.filter(name__iexact=model.name).exists():
        raise ConflictError(f"A model named {model.name!r} exists.", code=SyncsErrorCode.DUPLICATE)
    model.save()
    audit_record(
        action="syncs.model.created",
        target=model,
        after=audit_snapshot(model, MODEL_FIELDS),
        metadata={"dbt_unique_id": model.dbt_unique_id} if model.dbt_unique_id else None,
    )
    return model


@transaction.atomic
def model_update(*, actor, model: SqlModel, **changes) -> SqlModel:
    require(actor, "syncs.manage", "change models")
    model = SqlModel.objects.select_for_update().get(pk=model.pk)
    before = audit_snapshot(model, MODEL_FIELDS)
    for key, value in changes.items():
        if key not in MODEL_FIELDS:
            raise ValueError(key)
        setattr(model, key, value)
    _validate_model(model)
    try:
        with transaction.atomic():
            model.save()
    except IntegrityError:
        raise ConflictError(
            "A model with that name exists.", code=SyncsErrorCode.DUPLICATE
        ) from None
    audit_record(
        action="syncs.model.updated",
        target=model,
        before=before,
        after=audit_snapshot(model, MODEL_FIELDS),
    )
    return model


# -- syncs -------------------------------------------------------------------------------

SYNC_FIELDS = (
    "name",
    "model",
    "destination",
    "object",
    "mode",
    "subject_column",
    "subject_type",
    "mappings",
    "event_name",
    "audience_field",
    "schedule",
    "interval_minutes",
    "cron",
    "row_threshold",
    "failed_share_alert",
    "description",
)
NEEDS_SUPPORT = {
    SyncObject.CONTACTS: "profiles",
    SyncObject.USERS: "profiles",
    SyncObject.AUDIENCES: "profiles",
    SyncObject.CONVERSIONS: "events",
}


def _supports(destination) -> frozenset[str]:
    adapter = outbound.adapter(destination.adapter)
    supports_for = getattr(adapter, "supports_for", None)
    return supports_for(destination.config) if supports_for else adapter.supports


def _clean_mappings(raw) -> list[dict]:
    if not isinstance(raw, list):
        raise ApplicationError(
            'Mappings are a list of {"from", "to"}.', code=SyncsErrorCode.INVALID_MAPPINGS
        )
    out = []
    for rule in raw:
        if (
            not isinstance(rule, dict)
            or not isinstance(rule.get("from"), str)
            or not isinstance(rule.get("to"), str)
        ):
            raise ApplicationError(
                'Each mapping is {"from": column, "to": field}.',
                code=SyncsErrorCode.INVALID_MAPPINGS,
            )
        source, target = rule["from"].strip(), rule["to"].strip()
        if source or target:
            out.append({"from": source, "to": target})
    return out


def _validate_sync(sync: Sync) -> None:
    """Everything a run relies on, checked when the sync is saved, with the field named."""
    from apps.identity.choices import IdentifierType

    if not sync.name.strip():
        raise ApplicationError("A sync needs a name.", code=SyncsErrorCode.INVALID_NAME)
    destination = sync.destination
    adapter = outbound.adapter(destination.adapter)
    if sync.object not in SyncObject.values:
        raise ApplicationError(
            "Object is contacts, users, conversions or audiences.",
            code=SyncsErrorCode.INVALID_OBJECT,
        )
    if sync.mode not in SyncMode.values:
        raise ApplicationError(
            "Mode is upsert, update, insert or mirror.", code=SyncsErrorCode.INVALID_MODE
        )
    need = NEEDS_SUPPORT[sync.object]
    if need not in _supports(destination):
        raise ApplicationError(
            f"{adapter.label} does not take {sync.get_object_display().lower()} "
            f"(it takes {', '.join(sorted(_supports(destination)))}).",
            code=SyncsErrorCode.UNSUPPORTED_OBJECT,
        )
    if sync.mode == SyncMode.MIRROR:
        if sync.object == SyncObject.CONVERSIONS:
            raise ApplicationError(
                "Conversions cannot be mirrored: vendors do not remove them.",
                code=SyncsErrorCode.UNSUPPORTED_MODE,
            )
        if sync.object != SyncObject.AUDIENCES and "deletion" not in _supports(destination):
            raise ApplicationError(
                f"{adapter.label} cannot remove records, so it cannot mirror.",
                code=SyncsErrorCode.UNSUPPORTED_MODE,
            )
    if sync.subject_type not in IdentifierType.values:
        raise ApplicationError(
            f"The identifier type is one of {', '.join(IdentifierType.values)}.",
            code=SyncsErrorCode.INVALID_SUBJECT_TYPE,
        )
    if adapter.needs and sync.subject_type not in adapter.needs:
        raise ApplicationError(
            f"{adapter.label} finds people by {' or '.join(adapter.needs)}, "
            f"not by {sync.subject_type}.",
            code=SyncsErrorCode.INVALID_SUBJECT_TYPE,
        )
    columns = [c["name"] for c in sync.model.columns]
    if sync.subject_column not in columns:
        raise ApplicationError(
            f"The model has no column {sync.subject_column!r}; it has {', '.join(columns)}.",
            code=SyncsErrorCode.INVALID_SUBJECT_COLUMN,
        )
    sync.mappings = _clean_mappings(sync.mappings)
    seen: set[str] = set()
    for rule in sync.mappings:
        if rule["from"] not in columns:
            raise ApplicationError(
                f"Mapping from {rule['from'] or '(empty)'!r}: the model has no such column "
                f"({', '.join(columns)}).",
                code=SyncsErrorCode.INVALID_MAPPINGS,
            )
        problem = adapter.field_error(rule["to"])
        if problem:
            raise ApplicationError(
                f"Mapping to {rule['to'] or '(empty)'!r}: {problem}",
                code=SyncsErrorCode.INVALID_MAPPINGS,
            )
        if rule["to"] in seen:
            raise ApplicationError(
                f"Two mappings write {rule['to']!r}.", code=SyncsErrorCode.INVALID_MAPPINGS
            )
        seen.add(rule["to"])
    if sync.object == SyncObject.CONVERSIONS and not sync.event_name.strip():
        raise ApplicationError(
            "A conversions sync needs the conversion's event name.",
            code=SyncsErrorCode.INVALID_EVENT_NAME,
        )
    if sync.object == SyncObject.AUDIENCES:
        problem = adapter.field_error(sync.audience_field)
        if problem or sync.audience_field in seen:
            raise ApplicationError(
                f"Audience attribute: {problem or 'a mapping writes it already.'}",
                code=SyncsErrorCode.INVALID_AUDIENCE_FIELD,
            )
    _validate_schedule(sync)
    if sync.row_threshold is not None and sync.row_threshold < 1:
        raise ApplicationError(
            "The row threshold is at least 1.", code=SyncsErrorCode.INVALID_THRESHOLD
        )
    if not 0 <= int(sync.failed_share_alert) <= 100:
        raise ApplicationError(
            "The failed-rows alert is a percentage, 0 to 100.",
            code=SyncsErrorCode.INVALID_THRESHOLD,
        )


def _validate_schedule(sync: Sync) -> None:
    from celery.schedules import crontab

    if sync.schedule not in ScheduleKind.values:
        raise ApplicationError(
            "Schedule is manual, interval or cron.", code=SyncsErrorCode.INVALID_SCHEDULE
        )
    if sync.schedule == ScheduleKind.INTERVAL and not 5 <= (sync.interval_minutes or 0) <= 10080:
        raise ApplicationError(
            "An interval is 5 to 10,080 minutes (a week).", code=SyncsErrorCode.INVALID_SCHEDULE
        )
    if sync.schedule == ScheduleKind.CRON:
        parts = sync.cron.split()
        if len(parts) != 5:
            raise ApplicationError(
                "A cron schedule has five fields: minute hour day month weekday, "
                "e.g. '0 6 * * 1-5'.",
                code=SyncsErrorCode.INVALID_SCHEDULE,
            )
        try:
            crontab(
                minute=parts[0],
                hour=parts[1],
                day_of_month=parts[2],
                month_of_year=parts[3],
                day_of_week=parts[4],
            )
        except (ValueError, KeyError) as exc:
            raise ApplicationError(
                f"The cron schedule is not valid: {exc}.", code=SyncsErrorCode.INVALID_SCHEDULE
            ) from None


def _apply_schedule(sync: Sync) -> None:
    """Keep the sync's django-celery-beat entry in step with its schedule and pause."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    if sync.schedule == ScheduleKind.MANUAL:
        if sync.periodic_task_id:
            PeriodicTask.objects.filter(pk=sync.periodic_task_id).delete()
            sync.periodic_task = None
        return
    task = sync.periodic_task or PeriodicTask(
        name=f"sync {sync.pk}: {sync.name}"[:200], task="syncs.scheduled"
    )
    task.name = f"sync {sync.pk}: {sync.name}"[:200]
    task.args = f"[{sync.pk}]"
    task.queue = "syncs"
    task.enabled = not sync.is_paused
    task.interval, task.crontab = None, None
    if sync.schedule == ScheduleKind.INTERVAL:
        task.interval, _ = IntervalSchedule.objects.get_or_create(
            every=sync.interval_minutes, period=IntervalSchedule.MINUTES
        )
    else:
        m, h, dom, moy, dow = sync.cron.split()
        task.crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=m,
            hour=h,
            day_of_month=dom,
            month_of_year=moy,
            day_of_week=dow,
            timezone=settings.TIME_ZONE,
        )
    task.save()
    sync.periodic_task = task


def _sync_snapshot(sync: Sync) -> dict:
    snap = audit_snapshot(sync, SYNC_FIELDS)
    return {**snap, "model": sync.model_id, "destination": sync.destination_id}


@transaction.atomic
def sync_create(*, actor, **fields) -> Sync:
    require(actor, "syncs.run", "create syncs")
    sync = Sync(created_by=actor, **fields)
    _validate_sync(sync)
    if Sync.objects.filter(name__iexact=sync.name).exists():
        raise ConflictError(f"A sync named {sync.name!r} exists.", code=SyncsErrorCode.DUPLICATE)
    sync.save()
    _apply_schedule(sync)
    sync.save(update_fields=["periodic_task"])
    audit_record(action="syncs.sync.created", target=sync, after=_sync_snapshot(sync))
    return sync


@transaction.atomic
def sync_update(*, actor, sync: Sync, **changes) -> Sync:
    require(actor, "syncs.run", "change syncs")
    sync = Sync.objects.select_for_update().select_related("model", "destination").get(pk=sync.pk)
    before = _sync_snapshot(sync)
    for key, value in changes.items():
        if key not in SYNC_FIELDS:
            raise ValueError(key)
        setattr(sync, key, value)
    _validate_sync(sync)
    try:
        with transaction.atomic():
            sync.save()
    except IntegrityError:
        raise ConflictError(
            "A sync with that name exists.", code=SyncsErrorCode.DUPLICATE
        ) from None
    _apply_schedule(sync)
    sync.save(update_fields=["periodic_task"])
    audit_record(
        action="syncs.sync.updated", target=sync, before=before, after=_sync_snapshot(sync)
    )
    return sync


@transaction.atomic
def sync_pause(*, actor, sync: Sync, paused: bool) -> Sync:
    require(actor, "syncs.run", "pause or resume syncs")
    sync = Sync.objects.select_for_update().get(pk=sync.pk)
    if sync.is_paused == paused:
        return sync
    sync.is_paused = paused
    sync.save(update_fields=["is_paused", "updated_at"])
    _apply_schedule(sync)
    audit_record(action="syncs.sync.paused" if paused else "syncs.sync.resumed", target=sync)
    return sync


def _enqueue(run: SyncRun) -> None:
    from .tasks import run_task

    def send() -> None:
        try:
            run_task.delay(run.pk)
        except Exception:  # the run is stored as queued; the sweeper starts it
            log.warning("could not queue sync run %s", run.pk, exc_info=True)

    transaction.on_commit(send)


@transaction.atomic
def sync_run(*, actor, sync: Sync, dry_run: bool = False, trigger: str = "manual") -> SyncRun:
    """Queue a run (or a dry run) of ``sync``. One run at a time; a run waiting for approval
    is superseded by a new request."""
    if actor is not None:
        require(actor, "syncs.run", "run syncs")
    sync = Sync.objects.select_for_update().get(pk=sync.pk)
    if sync.is_paused and not dry_run:
        raise ApplicationError(
            "The sync is paused; resume it to run it.", code=SyncsErrorCode.SYNC_PAUSED
        )
    active = sync.runs.filter(status__in=ACTIVE_RUN).first()
    if active is not None:
        state = active.get_status_display().lower()
        raise ConflictError(
            f"Run #{active.number} of this sync is still {state}.",
            code=SyncsErrorCode.RUN_IN_PROGRESS,
        )
    sync.runs.filter(status=RunStatus.NEEDS_APPROVAL).update(
        status=RunStatus.CANCELLED, error="Superseded by a newer run."
    )
    now = timezone.now()
    run = SyncRun.objects.create(
        sync=sync,
        dry_run=dry_run,
        trigger=trigger,
        mode=sync.mode,
        requested_by=actor,
        created_at=now,
        heartbeat_at=now,
    )
    audit_record(
        action="syncs.run.dry_run" if dry_run else "syncs.run.requested",
        target=sync,
        metadata={"run": run.pk, "trigger": trigger},
    )
    _enqueue(run)
    return run


def sync_run_scheduled(sync_id: int) -> SyncRun | None:
    sync = Sync.objects.filter(pk=sync_id, is_paused=False).first()
    if sync is None or sync.schedule == ScheduleKind.MANUAL:
        return None
    try:
        return sync_run(actor=None, sync=sync, trigger="schedule")
    except ConflictError:  # the previous run is still going
        return None


@transaction.atomic
def sync_run_approve(*, actor, run: SyncRun) -> SyncRun:
    """Let a held run go ahead (``syncs.run_production``, tenure-gated by the access rules)."""
    require(actor, "syncs.run_production", "approve runs into production destinations")
    run = SyncRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunStatus.NEEDS_APPROVAL:
        raise ConflictError(
            "Only a run waiting for approval can be approved.", code=SyncsErrorCode.NOT_WAITING
        )
    run.status, run.approved_by, run.heartbeat_at = RunStatus.QUEUED, actor, timezone.now()
    run.done, run.finished_at = 0, None
    run.save(update_fields=["status", "approved_by", "heartbeat_at", "done", "finished_at"])
    audit_record(
        action="syncs.run.approved",
        target=run.sync,
        metadata={"run": run.pk, "reasons": run.approval_reason, "planned": run.planned},
    )
    _enqueue(run)
    return run


@transaction.atomic
def sync_run_cancel(*, actor, run: SyncRun) -> SyncRun:
    require(actor, "syncs.run", "cancel runs")
    run = SyncRun.objects.select_for_update().get(pk=run.pk)
    if run.status not in (RunStatus.NEEDS_APPROVAL, RunStatus.QUEUED):
        raise ConflictError(
            "Only a queued run or one waiting for approval can be cancelled.",
            code=SyncsErrorCode.NOT_CANCELLABLE,
        )
    run.status, run.finished_at = RunStatus.CANCELLED, timezone.now()
    run.error = f"Cancelled by {actor.email}."
    run.save(update_fields=["status", "finished_at", "error"])
    audit_record(action="syncs.run.cancelled", target=run.sync, metadata={"run": run.pk})
    return run


def warehouse_dsns_rotate() -> int:
    """Re-encrypt every warehouse's DSN with the newest credential key; returns how many."""
    count = 0
    with transaction.atomic():
        for warehouse in Warehouse.objects.select_for_update().exclude(dsn_token=""):
            warehouse.dsn_token = crypto.rotate(warehouse.dsn_token)
            warehouse.save(update_fields=["dsn_token"])
            count += 1
    return count


# -- dbt ---------------------------------------------------------------------------------


@transaction.atomic
def dbt_manifest_import(*, actor, warehouse: Warehouse, manifest) -> DbtManifest:
    """Keep the dbt models of ``manifest`` (parsed; the manifest itself is not stored) for
    ``warehouse``, and bring the models made from them up to date: each one's query reads
    its dbt model's relation again and takes its description."""
    from . import dbt

    require(actor, "syncs.manage", "import dbt manifests")
    dialect = engine_for(warehouse.kind).dialect if warehouse.kind in MODULES else "postgres"
    about, entries = dbt.parse(manifest, dialect=dialect)
    stored, _ = DbtManifest.objects.select_for_update().get_or_create(warehouse=warehouse)
    before = {"models": len(stored.entries), "generated_at": stored.generated_at}
    stored.entries, stored.imported_by, stored.imported_at = entries, actor, timezone.now()
    stored.dbt_version, stored.generated_at = about["dbt_version"], about["generated_at"]
    stored.save()
    updated = []
    by_id = {entry["unique_id"]: entry for entry in entries}
    made = SqlModel.objects.select_for_update().filter(
        warehouse=warehouse, dbt_unique_id__in=list(by_id)
    )
    for model in made:
        entry = by_id[model.dbt_unique_id]
        sql, description = _dbt_sql(entry), _dbt_description(entry)
        if (model.sql, model.description) == (sql, description):
            continue
        snapshot = audit_snapshot(model, MODEL_FIELDS)
        model.sql, model.description = check_sql(sql), description
        model.save(update_fields=["sql", "description", "updated_at"])
        audit_record(
            action="syncs.model.updated",
            target=model,
            before=snapshot,
            after=audit_snapshot(model, MODEL_FIELDS),
            metadata={"dbt_unique_id": model.dbt_unique_id},
        )
        updated.append(model.pk)
    audit_record(
        action="syncs.warehouse.dbt_imported",
        target=warehouse,
        before=before,
        after={"models": len(entries), "generated_at": stored.generated_at},
        metadata={"dbt_version": stored.dbt_version, "models_updated": updated},
    )
    return stored


def _dbt_sql(entry: dict) -> str:
    return entry["sql"]


def _dbt_description(entry: dict) -> str:
    text = entry["description"]
    owner = entry["owner"]
    if owner and not _dbt_owner(owner):
        text = f"{text}\n\nOwner in dbt: {owner}".strip()
    return text


def _dbt_owner(owner: str):
    from django.contrib.auth import get_user_model

    if "@" not in owner:
        return None
    return get_user_model().objects.filter(email__iexact=owner, is_active=True).first()


def model_from_dbt(
    *, actor, warehouse: Warehouse, unique_id: str, name: str = "", primary_key: str = ""
) -> SqlModel:
    """A model reading the relation of the dbt model ``unique_id`` of the warehouse's last
    imported manifest, with its description and owner (a console person with the owner's
    email; otherwise the owner is named in the description). Checked by a preview like any
    model."""
    require(actor, "syncs.manage", "write models")
    stored = DbtManifest.objects.filter(warehouse=warehouse).first()
    entry = stored.model(unique_id) if stored else None
    if entry is None:
        raise ApplicationError(
            f"{warehouse.name} has no dbt model {unique_id!r}; import its manifest first.",
            code=SyncsErrorCode.NOT_A_DBT_MODEL,
            details={"field": "unique_id"},
        )
    return model_create(
        actor=actor,
        name=(name or entry["name"]).strip(),
        warehouse=warehouse,
        sql=_dbt_sql(entry),
        primary_key=(primary_key or entry["primary_key"]).strip(),
        description=_dbt_description(entry),
        dbt_unique_id=unique_id,
        owner=_dbt_owner(entry["owner"]) or actor,
    )


def dbt_run_finished(*, actor, unique_ids, warehouse: Warehouse | None = None) -> dict:
    """After a dbt run built the models ``unique_ids``: start a run of every sync, not
    paused, whose model reads one of them (on ``warehouse`` if given), as a manual run by
    ``actor`` would (the same permission; a run may still be held for approval). Returns
    the runs started and the syncs skipped with why."""
    require(actor, "syncs.run", "run syncs")
    ids = sorted({u for u in unique_ids if isinstance(u, str) and u})
    syncs = Sync.objects.filter(model__dbt_unique_id__in=ids, is_paused=False)
    if warehouse is not None:
        syncs = syncs.filter(model__warehouse=warehouse)
    started, skipped = [], []
    for sync in syncs.select_related("model").order_by("pk"):
        try:
            started.append(sync_run(actor=actor, sync=sync, trigger="dbt"))
        except ApplicationError as exc:
            skipped.append({"sync": sync.pk, "code": str(exc.code), "message": exc.message})
    return {"started": started, "skipped": skipped}
