from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.access import require
from martech.common.api import ErrorSerializer, validated_body

from .. import selectors, services
from ..engine import warehouse as engine
from ..models import SqlModel, Warehouse
from .serializers import (
    KeyCheckSerializer,
    ModelPreviewSerializer,
    SqlModelSerializer,
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

    @extend_schema(request=None, responses={200: ModelPreviewSerializer, **ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_fields=None)
    def preview(self, request, *args, **kwargs):
        """The first 20 rows and the columns with their types (read-only, time-limited)."""
        model = self.get_object()
        shown = engine.preview(model.warehouse, model.sql)
        rows = [[v if isinstance(v, int | float | str | bool | None) else str(v) for v in r]
                for r in shown.rows]  # fmt: skip
        return Response({"columns": shown.columns, "rows": rows})

    @extend_schema(request=None, responses={200: KeyCheckSerializer, **ERRORS})
    @action(detail=True, methods=["get"], url_path="key-check", url_name="key-check",
            pagination_class=None, filterset_fields=None)  # fmt: skip
    def key_check(self, request, *args, **kwargs):
        """Rows, rows without a key, and the first keys that appear more than once."""
        model = self.get_object()
        check = engine.check_key(model.warehouse, model.sql, model.primary_key)
        duplicates = [list(d) for d in check.duplicates]
        return Response({"rows": check.rows, "nulls": check.nulls, "duplicates": duplicates,
                         "ok": check.ok})  # fmt: skip
