from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.access.rules import require
from apps.syncs.errors import SyncsErrorCode
from martech.common.api import ErrorSerializer, validated_body
from martech.common.errors import ApplicationError

from .. import dbt, selectors, services
from ..engine import warehouse as engine
from ..models import RowOutcome, SqlModel, Sync, SyncRun, Warehouse
from .serializers import (
    DbtManifestSerializer,
    DbtRunSerializer,
    DbtRunStartedSerializer,
    KeyCheckSerializer,
    ModelFromDbtSerializer,
    ModelPreviewSerializer,
    SqlModelSerializer,
    SyncRunRowSerializer,
    SyncRunSerializer,
    SyncSerializer,
    WarehouseSerializer,
    WarehouseTestedSerializer,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class WarehouseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Warehouse connections (syncs.view; writes syncs.manage). The DSN is write-only."""

    lookup_value_regex = r"\d+"
    serializer_class = WarehouseSerializer
    filterset_fields = {"kind": ["exact"]}
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Warehouse.objects.none()
        require(self.request.user, "syncs.view", "see warehouses")
        return selectors.warehouse_list(user=self.request.user)

    def get_object(self):
        return selectors.warehouse_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=WarehouseSerializer, responses={201: WarehouseSerializer, **ERRORS})
    def create(self, request, *args, **kwargs):
        require(request.user, "syncs.manage", "connect warehouses")
        data = validated_body(WarehouseSerializer, request)
        warehouse = services.warehouse_create(actor=request.user, **data)
        return Response(WarehouseSerializer(warehouse).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WarehouseSerializer, responses={200: WarehouseSerializer, **ERRORS})
    def partial_update(self, request, *args, **kwargs):
        warehouse = self.get_object()
        require(request.user, "syncs.manage", "change warehouses")
        data = validated_body(WarehouseSerializer, request, partial=True)
        warehouse = services.warehouse_update(actor=request.user, warehouse=warehouse, **data)
        return Response(WarehouseSerializer(warehouse).data)

    @extend_schema(request=None, responses={200: WarehouseTestedSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_fields=None)
    def test(self, request, *args, **kwargs):
        """Connect read-only and report the server, or why it failed."""
        warehouse = self.get_object()
        ok, message = services.warehouse_test(actor=request.user, warehouse=warehouse)
        return Response({"ok": ok, "message": message})

    @extend_schema(
        request={"application/json": {"type": "object", "description": "dbt's manifest.json"}},
        responses={200: DbtManifestSerializer, **ERRORS},
        methods=["POST"],
    )
    @extend_schema(responses={200: DbtManifestSerializer, **ERRORS}, methods=["GET"])
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="dbt-models",
        url_name="dbt-models",
        pagination_class=None,
        filterset_fields=None,
    )
    def dbt_models(self, request, *args, **kwargs):
        """The warehouse's dbt models, from the last manifest imported. POST a dbt
        ``manifest.json`` as the body (syncs.manage) to import it: the models made from it
        read their relation again and take its description."""
        warehouse = self.get_object()
        if request.method == "POST":
            require(request.user, "syncs.manage", "import dbt manifests")
            if int(request.META.get("CONTENT_LENGTH") or 0) > dbt.MAX_MANIFEST_BYTES:
                raise ApplicationError(
                    "The manifest is larger than 20 MB.", code=SyncsErrorCode.MANIFEST_TOO_LARGE
                )
            services.dbt_manifest_import(
                actor=request.user, warehouse=warehouse, manifest=request.data
            )
        stored, models = selectors.dbt_models(warehouse)
        if stored is None:
            return Response(
                {"dbt_version": "", "generated_at": "", "imported_at": None, "models": []}
            )
        return Response(
            DbtManifestSerializer(
                {
                    "dbt_version": stored.dbt_version,
                    "generated_at": stored.generated_at,
                    "imported_at": stored.imported_at,
                    "models": models,
                }
            ).data
        )


class SqlModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """SQL models (syncs.view; writes syncs.manage): one read query and its primary key."""

    lookup_value_regex = r"\d+"
    serializer_class = SqlModelSerializer
    filterset_fields = {"warehouse": ["exact"]}
    ordering_fields = ["name", "id", "updated_at"]
    ordering = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SqlModel.objects.none()
        require(self.request.user, "syncs.view", "see models")
        return selectors.model_list(user=self.request.user)

    def get_object(self):
        return selectors.model_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=SqlModelSerializer, responses={201: SqlModelSerializer, **ERRORS})
    def create(self, request, *args, **kwargs):
        require(request.user, "syncs.manage", "write models")
        data = validated_body(SqlModelSerializer, request)
        model = services.model_create(actor=request.user, **data)
        return Response(SqlModelSerializer(model).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SqlModelSerializer, responses={200: SqlModelSerializer, **ERRORS})
    def partial_update(self, request, *args, **kwargs):
        model = self.get_object()
        require(request.user, "syncs.manage", "change models")
        data = validated_body(SqlModelSerializer, request, partial=True)
        model = services.model_update(actor=request.user, model=model, **data)
        return Response(SqlModelSerializer(model).data)

    @extend_schema(request=ModelFromDbtSerializer, responses={201: SqlModelSerializer, **ERRORS})
    @action(
        detail=False,
        methods=["post"],
        url_path="from-dbt",
        url_name="from-dbt",
        pagination_class=None,
        filterset_fields=None,
    )
    def from_dbt(self, request, *args, **kwargs):
        """Make a model reading a dbt model of the warehouse's imported manifest:
        ``SELECT * FROM`` its relation, with its description and owner."""
        require(request.user, "syncs.manage", "write models")
        data = validated_body(ModelFromDbtSerializer, request)
        model = services.model_from_dbt(actor=request.user, **data)
        return Response(SqlModelSerializer(model).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ModelPreviewSerializer, **ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_fields=None)
    def preview(self, request, *args, **kwargs):
        """The first 20 rows and the columns with their types (read-only, time-limited)."""
        model = self.get_object()
        shown = engine.preview(model.warehouse, model.sql)
        rows = [
            [v if isinstance(v, int | float | str | bool | None) else str(v) for v in r]
            for r in shown.rows
        ]
        return Response({"columns": shown.columns, "rows": rows})

    @extend_schema(request=None, responses={200: KeyCheckSerializer, **ERRORS})
    @action(
        detail=True,
        methods=["get"],
        url_path="key-check",
        url_name="key-check",
        pagination_class=None,
        filterset_fields=None,
    )
    def key_check(self, request, *args, **kwargs):
        """Rows, rows without a key, and the first keys that appear more than once."""
        model = self.get_object()
        check = engine.check_key(model.warehouse, model.sql, model.primary_key)
        duplicates = [list(d) for d in check.duplicates]
        return Response(
            {"rows": check.rows, "nulls": check.nulls, "duplicates": duplicates, "ok": check.ok}
        )


class SyncViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Syncs (syncs.view; writes, runs and pauses syncs.run). A run is queued: follow it at
    ``/api/v1/sync-runs/{id}/``. A run into a production destination that trips a guard rail
    stops with status ``approval`` and its dry run, until someone with
    ``syncs.run_production`` approves it."""

    lookup_value_regex = r"\d+"
    serializer_class = SyncSerializer
    filterset_fields = {
        "model": ["exact"],
        "destination": ["exact"],
        "mode": ["exact"],
        "is_paused": ["exact"],
    }
    ordering_fields = ["name", "id", "updated_at"]
    ordering = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Sync.objects.none()
        require(self.request.user, "syncs.view", "see syncs")
        return selectors.sync_list(user=self.request.user)

    def get_object(self):
        return selectors.sync_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=SyncSerializer, responses={201: SyncSerializer, **ERRORS})
    def create(self, request, *args, **kwargs):
        require(request.user, "syncs.run", "create syncs")
        data = validated_body(SyncSerializer, request)
        sync = services.sync_create(actor=request.user, **data)
        return Response(SyncSerializer(sync).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SyncSerializer, responses={200: SyncSerializer, **ERRORS})
    def partial_update(self, request, *args, **kwargs):
        sync = self.get_object()
        require(request.user, "syncs.run", "change syncs")
        data = validated_body(SyncSerializer, request, partial=True)
        sync = services.sync_update(actor=request.user, sync=sync, **data)
        return Response(SyncSerializer(sync).data)

    def _run(self, request, dry_run: bool):
        sync = self.get_object()
        run = services.sync_run(actor=request.user, sync=sync, dry_run=dry_run, trigger="api")
        return Response(SyncRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: SyncRunSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_fields=None)
    def run(self, request, *args, **kwargs):
        """Queue a run; 409 while another run of the sync is going."""
        return self._run(request, dry_run=False)

    @extend_schema(request=None, responses={202: SyncRunSerializer, **ERRORS})
    @action(
        detail=True,
        methods=["post"],
        url_path="dry-run",
        url_name="dry-run",
        pagination_class=None,
        filterset_fields=None,
    )
    def dry_run(self, request, *args, **kwargs):
        """Queue a dry run: counts and sample rows, nothing sent."""
        return self._run(request, dry_run=True)

    @extend_schema(request=None, responses={200: SyncSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_fields=None)
    def pause(self, request, *args, **kwargs):
        """Stop scheduled and manual runs until resumed."""
        sync = services.sync_pause(actor=request.user, sync=self.get_object(), paused=True)
        return Response(SyncSerializer(sync).data)

    @extend_schema(request=None, responses={200: SyncSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_fields=None)
    def resume(self, request, *args, **kwargs):
        sync = services.sync_pause(actor=request.user, sync=self.get_object(), paused=False)
        return Response(SyncSerializer(sync).data)


class DbtRunViewSet(viewsets.ViewSet):
    """After a dbt run (a dbt Cloud webhook or a CI step): every sync, not paused, whose
    model was made from one of the dbt models built is run, as by a manual run of the
    token's person (syncs.run; a run into production may be held for approval)."""

    @extend_schema(request=DbtRunSerializer, responses={202: DbtRunStartedSerializer, **ERRORS})
    def create(self, request, *args, **kwargs):
        require(request.user, "syncs.run", "run syncs")
        data = validated_body(DbtRunSerializer, request)
        if "warehouse" in data:
            data["warehouse"] = selectors.warehouse_get(user=request.user, pk=data["warehouse"].pk)
        outcome = services.dbt_run_finished(actor=request.user, **data)
        return Response(
            DbtRunStartedSerializer(
                {"runs": outcome["started"], "skipped": outcome["skipped"]}
            ).data,
            status=status.HTTP_202_ACCEPTED,
        )


class SyncRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sync runs (syncs.view) with progress, counts, the dry run behind a held run, and the
    rows worth showing (failed with the vendor's message, skipped, removed)."""

    lookup_value_regex = r"\d+"
    serializer_class = SyncRunSerializer
    filterset_fields = {"sync": ["exact"], "status": ["exact"], "dry_run": ["exact"]}
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SyncRun.objects.none()
        require(self.request.user, "syncs.view", "see sync runs")
        return selectors.run_list(user=self.request.user)

    def get_object(self):
        return selectors.run_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        responses={200: SyncRunRowSerializer(many=True), **ERRORS},
        parameters=[OpenApiParameter("outcome", str, enum=RowOutcome.values)],
    )
    @action(detail=True, methods=["get"], filterset_fields=None, ordering_fields=None)
    def rows(self, request, *args, **kwargs):
        """Per-row results, paginated; ``outcome`` filters."""
        run = self.get_object()
        rows = run.row_results.all()
        outcome = request.query_params.get("outcome")
        if outcome:
            if outcome not in RowOutcome.values:
                raise ApplicationError(
                    f"outcome is one of {', '.join(RowOutcome.values)}.",
                    code=SyncsErrorCode.INVALID_OUTCOME,
                )
            rows = rows.filter(outcome=outcome)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SyncRunRowSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: SyncRunSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_fields=None)
    def approve(self, request, *args, **kwargs):
        """Let a held run go ahead (syncs.run_production)."""
        run = services.sync_run_approve(actor=request.user, run=self.get_object())
        return Response(SyncRunSerializer(run).data)

    @extend_schema(request=None, responses={200: SyncRunSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_fields=None)
    def cancel(self, request, *args, **kwargs):
        """Cancel a queued or held run."""
        run = services.sync_run_cancel(actor=request.user, run=self.get_object())
        return Response(SyncRunSerializer(run).data)
