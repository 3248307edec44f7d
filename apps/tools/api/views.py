from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.access.rules import require
from apps.tools import selectors, services
from apps.tools.advisor import Situation, advise
from apps.tools.errors import ToolsErrorCode
from apps.tools.filters import ToolFilter
from apps.tools.inventory import tools_import_csv
from apps.tools.models import Tool
from martech.common.api import ErrorSerializer
from martech.common.errors import ApplicationError

from .serializers import (
    AdviceSerializer,
    InventoryImportSerializer,
    InventoryReportSerializer,
    OverlapGroupSerializer,
    SituationSerializer,
    ToolSerializer,
)

CONFLICT = {409: ErrorSerializer}


def _validated(serializer) -> dict:
    """The serializer's data, or a 400 naming every problem: per field, a code and words."""
    if serializer.is_valid():
        return serializer.validated_data
    problems = [
        {
            "field": field,
            "code": getattr(error, "code", ToolsErrorCode.INVALID),
            "message": str(error),
        }
        for field, errors in serializer.errors.items()
        for error in (errors if isinstance(errors, list) else [errors])
    ]
    first = problems[0]
    where = "" if first["field"] == api_settings.NON_FIELD_ERRORS_KEY else f"{first['field']}: "
    raise ApplicationError(
        f"{where}{first['message']}",
        code=ToolsErrorCode.INVALID,
        details={
            "fields": {f: [str(e) for e in errs] for f, errs in serializer.errors.items()},
            "problems": problems,
        },
    )


class ToolViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The tool registry. Reading needs tools.view; writing needs tools.manage."""

    lookup_value_regex = r"\d+"
    serializer_class = ToolSerializer
    filterset_class = ToolFilter
    ordering_fields = ["name", "vendor", "annual_cost", "renewal_date", "status"]
    ordering = ["name"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Tool.objects.none()
        return selectors.tool_list(user=self.request.user)

    def get_object(self):
        return selectors.tool_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(responses={201: ToolSerializer, **CONFLICT})
    def create(self, request, *args, **kwargs):
        serializer = ToolSerializer(data=request.data)
        tool = services.tool_create(actor=request.user, **_validated(serializer))
        return Response(ToolSerializer(tool).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: ToolSerializer, **CONFLICT})
    def partial_update(self, request, *args, **kwargs):
        tool = self.get_object()
        serializer = ToolSerializer(tool, data=request.data, partial=True)
        tool = services.tool_update(actor=request.user, tool=tool, **_validated(serializer))
        return Response(ToolSerializer(tool).data)

    @extend_schema(request=InventoryImportSerializer, responses={200: InventoryReportSerializer})
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        pagination_class=None,
        filterset_class=None,
    )
    def import_csv(self, request):
        """Import an inventory as CSV text; nothing is saved unless every row is valid."""
        serializer = InventoryImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = tools_import_csv(actor=request.user, text=serializer.validated_data["csv"])
        body = InventoryReportSerializer(report).data
        if not report.ok:
            raise ApplicationError(
                f"Nothing was imported: {len(report.errors)} problem(s) in {report.rows} row(s).",
                code=ToolsErrorCode.IMPORT_FAILED,
                details=body,
            )
        return Response(body)

    @extend_schema(request=SituationSerializer, responses={200: AdviceSerializer})
    @action(
        detail=False,
        methods=["post"],
        url_path="advisor",
        url_name="advisor",
        pagination_class=None,
        filterset_class=None,
    )
    def advisor(self, request):
        """Recommend a data-layer pattern for a situation, compared with today's stack."""
        require(request.user, "tools.view", "use the architecture advisor")
        serializer = SituationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        advice = advise(Situation(**serializer.validated_data))
        return Response(AdviceSerializer(advice).data)

    @extend_schema(responses=OverlapGroupSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def redundancy(self, request):
        """Tools in use that share a capability, with combined cost, seats and a suggestion."""
        groups = selectors.redundancy_report(user=request.user)
        return Response(OverlapGroupSerializer(groups, many=True).data)
