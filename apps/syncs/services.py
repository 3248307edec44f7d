"""Writes of warehouses and models. The DSN is write-only: stored encrypted, audited as its
host and database only."""

from __future__ import annotations

import psycopg
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.access import require
from apps.audit.services import audit_record, audit_snapshot
from apps.destinations import crypto
from martech.common.errors import ApplicationError, ConflictError

from .engine import warehouse as engine
from .engine.sql import check_sql
from .models import SqlModel, Warehouse, WarehouseKind

WAREHOUSE_FIELDS = ("name", "kind", "display", "statement_timeout", "description")
MODEL_FIELDS = ("name", "warehouse", "sql", "primary_key", "description")


def _display(dsn: str) -> str:
    try:
        parts = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ApplicationError(f"The DSN is not valid: {exc}", code="invalid_dsn") from None
    if not parts.get("dbname") and not parts.get("host"):
        raise ApplicationError("The DSN names no host or database.", code="invalid_dsn")
    where = (
        f"{parts.get('host', 'localhost')}:{parts.get('port', '5432')}/{parts.get('dbname', '')}"
    )
    return f"{where} as {parts['user']}" if parts.get("user") else where


def _validate_warehouse(warehouse: Warehouse) -> None:
    if not warehouse.name.strip():
        raise ApplicationError("A warehouse needs a name.", code="invalid_name")
    if warehouse.kind not in WarehouseKind.values:
        raise ApplicationError("Kind is console or postgres.", code="invalid_kind")
    if not 1 <= int(warehouse.statement_timeout) <= 3600:
        raise ApplicationError("The statement timeout is 1 to 3600 seconds.",
                               code="invalid_timeout")  # fmt: skip


def _set_dsn(warehouse: Warehouse, dsn: str | None) -> None:
    if warehouse.kind == WarehouseKind.CONSOLE:
        warehouse.dsn_token, warehouse.display = "", "the console's database"
        return
    if dsn:
        warehouse.display = _display(dsn)
        warehouse.dsn_token = crypto.encrypt({"dsn": dsn})
    elif not warehouse.dsn_token:
        raise ApplicationError("A PostgreSQL warehouse needs a DSN.", code="invalid_dsn")


@transaction.atomic
def warehouse_create(*, actor, dsn: str | None = None, **fields) -> Warehouse:
    require(actor, "syncs.manage", "connect warehouses")
    warehouse = Warehouse(created_by=actor, **fields)
    _validate_warehouse(warehouse)
    _set_dsn(warehouse, dsn)
    if Warehouse.objects.filter(name__iexact=warehouse.name).exists():
        raise ConflictError(f"A warehouse named {warehouse.name!r} exists.", code="duplicate")
    warehouse.save()
    audit_record(action="syncs.warehouse.created", target=warehouse,
                 after=audit_snapshot(warehouse, WAREHOUSE_FIELDS))  # fmt: skip
    return warehouse


@transaction.atomic
def warehouse_update(*, actor, warehouse: Warehouse, dsn: str | None = None,
                     **changes) -> Warehouse:  # fmt: skip
    require(actor, "syncs.manage", "change warehouses")
    warehouse = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
    before = audit_snapshot(warehouse, WAREHOUSE_FIELDS)
    for key, value in changes.items():
        if key not in WAREHOUSE_FIELDS or key == "display":
            raise ValueError(key)
        setattr(warehouse, key, value)
    _validate_warehouse(warehouse)
    _set_dsn(warehouse, dsn)
    try:
        with transaction.atomic():
            warehouse.save()
    except IntegrityError:
        raise ConflictError("A warehouse with that name exists.", code="duplicate") from None
    audit_record(action="syncs.warehouse.updated", target=warehouse, before=before,
                 after=audit_snapshot(warehouse, WAREHOUSE_FIELDS),
                 metadata={"dsn_changed": bool(dsn)})  # fmt: skip
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
    audit_record(action="syncs.warehouse.tested", target=warehouse,
                 metadata={"ok": ok, "message": message[:500]})  # fmt: skip
    return ok, message


def _validate_model(model: SqlModel) -> None:
    if not model.name.strip():
        raise ApplicationError("A model needs a name.", code="invalid_name")
    model.sql = check_sql(model.sql)
    model.primary_key = (model.primary_key or "").strip()
    if not model.primary_key:
        raise ApplicationError("Name the primary-key column.", code="invalid_primary_key")
    shown = engine.preview(model.warehouse, model.sql, limit=1)
    names = [c["name"] for c in shown.columns]
    if model.primary_key not in names:
        raise ApplicationError(
            f"The query has no column {model.primary_key!r}; it has {', '.join(names)}.",
            code="invalid_primary_key",
        )
    model.columns = shown.columns


@transaction.atomic
def model_create(*, actor, **fields) -> SqlModel:
    require(actor, "syncs.manage", "write models")
    model = SqlModel(owner=actor, **fields)
    _validate_model(model)
    if SqlModel.objects.filter(name__iexact=model.name).exists():
        raise ConflictError(f"A model named {model.name!r} exists.", code="duplicate")
    model.save()
    audit_record(action="syncs.model.created", target=model,
                 after=audit_snapshot(model, MODEL_FIELDS))  # fmt: skip
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
        raise ConflictError("A model with that name exists.", code="duplicate") from None
    audit_record(action="syncs.model.updated", target=model, before=before,
                 after=audit_snapshot(model, MODEL_FIELDS))  # fmt: skip
    return model
