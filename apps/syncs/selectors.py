"""Reads of warehouses and models, restricted by ``syncs.view``."""

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from apps.access.rules import user_can
from martech.common.errors import NotFoundError

from .models import DbtManifest, SqlModel, Sync, SyncRow, SyncRun, Warehouse
from .warehouses.postgres import activation_params


def activation_role() -> str:
    """The database role that SQL models run as on the console's own database (the deploy
    check looks it up)."""
    return activation_params()["user"]


def warehouse_list(*, user) -> QuerySet[Warehouse]:
    if user is None or not user_can(user, "syncs.view"):
        return Warehouse.objects.none()
    return Warehouse.objects.annotate(model_count=Count("models"))


def warehouse_get(*, user, pk) -> Warehouse:
    found = warehouse_list(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("No such warehouse.")
    return found


def model_list(*, user) -> QuerySet[SqlModel]:
    if user is None or not user_can(user, "syncs.view"):
        return SqlModel.objects.none()
    return SqlModel.objects.select_related("warehouse", "owner")


def model_get(*, user, pk) -> SqlModel:
    found = model_list(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("No such model.")
    return found


def destinations_synced_to(ids) -> set[int]:
    """Which of the destinations ``ids`` a sync ever sent rows to, or may have: any row state
    kept for one of its syncs, or any run of one that was not a dry run (erasure deletes the
    person's row states; the runs stay)."""
    ids = list(ids)
    if not ids:
        return set()
    rows = SyncRow.objects.filter(sync=OuterRef("pk"))
    runs = SyncRun.objects.filter(sync=OuterRef("pk"), dry_run=False)
    return set(
        Sync.objects.filter(destination_id__in=ids)
        .filter(Exists(rows) | Exists(runs))
        .values_list("destination_id", flat=True)
    )


def sync_list(*, user) -> QuerySet[Sync]:
    if user is None or not user_can(user, "syncs.view"):
        return Sync.objects.none()
    last = SyncRun.objects.filter(sync=OuterRef("pk"), dry_run=False).order_by("-created_at")
    return Sync.objects.select_related("model", "destination").annotate(
        last_status=Subquery(last.values("status")[:1]),
        last_run_at=Subquery(last.values("created_at")[:1]),
        last_run_id=Subquery(last.values("id")[:1]),
    )


def sync_get(*, user, pk) -> Sync:
    found = sync_list(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("No such sync.")
    return found


def run_list(*, user) -> QuerySet[SyncRun]:
    if user is None or not user_can(user, "syncs.view"):
        return SyncRun.objects.none()
    return SyncRun.objects.select_related(
        "sync", "sync__destination", "requested_by", "approved_by"
    )


def run_get(*, user, pk) -> SyncRun:
    found = run_list(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("No such run.")
    return found


def run_history(sync: Sync, limit: int = 20) -> dict:
    """Rows per run by outcome, oldest first, for the sync's history chart."""
    runs = list(
        sync.runs.filter(dry_run=False, finished_at__isnull=False).order_by("-created_at")[:limit]
    )[::-1]
    return {
        "labels": [timezone.localtime(r.created_at).strftime("%b %d %H:%M") for r in runs],
        "series": [
            {
                "label": "Sent",
                "data": [r.added + r.changed + r.removed for r in runs],
                "color": "#2fb344",
            },
            {
                "label": "Skipped",
                "data": [r.skipped_consent + r.skipped_suppression + r.skipped_mode for r in runs],
                "color": "#f76707",
            },
            {"label": "Failed", "data": [r.failed for r in runs], "color": "#d63939"},
        ],
    }


def loadable_warehouses() -> list[Warehouse]:
    """The warehouses the console may load data into: every connection but its own
    database."""
    return list(Warehouse.objects.exclude(kind="console").order_by("name"))


def warehouse_engine(warehouse: Warehouse):
    """The engine of ``warehouse``'s kind and its credentials, decrypted, for a load."""
    from martech.common import crypto

    from .warehouses import engine_for

    return engine_for(warehouse.kind), crypto.decrypt(warehouse.dsn_token)


def dbt_models(warehouse: Warehouse) -> tuple[DbtManifest | None, list[dict]]:
    """The warehouse's last imported dbt manifest and its models, each with ``model``: the
    pk of the console model made from it, or None."""
    stored = DbtManifest.objects.filter(warehouse=warehouse).first()
    if stored is None:
        return None, []
    made = dict(warehouse.models.exclude(dbt_unique_id="").values_list("dbt_unique_id", "pk"))
    return stored, [{**entry, "model": made.get(entry["unique_id"])} for entry in stored.entries]
