from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access.rules import require
from apps.consent import selectors, services
from apps.consent.errors import ConsentErrorCode
from apps.consent.filters import ConsentRecordFilter
from apps.consent.models import ConsentRecord, Purpose
from apps.identity.normalise import parse
from apps.identity.selectors import identifier_resolve
from martech.common.api import ErrorSerializer
from martech.common.errors import ApplicationError

from .serializers import (
    ConsentRecordCreateSerializer,
    ConsentRecordSerializer,
    ConsentStateSerializer,
    PurposeSerializer,
)


def _gpc(request) -> bool:
    return request.headers.get("Sec-GPC", "").strip() == "1"


class ConsentRecordViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The append-only consent ledger. Reading needs consent.view; recording needs
    consent.record. Records cannot be changed or deleted. A request with ``Sec-GPC: 1``
    also records an opt-out of sale and sharing for the subject."""

    serializer_class = ConsentRecordSerializer
    filterset_class = ConsentRecordFilter
    ordering_fields = ["occurred_at", "received_at", "id"]
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ConsentRecord.objects.none()
        return selectors.record_list(user=self.request.user)

    @extend_schema(
        request=ConsentRecordCreateSerializer,
        responses={201: ConsentRecordSerializer(many=True)},
        parameters=[OpenApiParameter("Sec-GPC", str, OpenApiParameter.HEADER, required=False)],
    )
    def create(self, request, *args, **kwargs):
        require(request.user, "consent.record", "record consent")
        serializer = ConsentRecordCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        subject = parse(data.pop("identifier"))
        via = f"api:{request.user.email}"
        records = [services.consent_record(subject=subject, actor=request.user, via=via, **data)]
        if _gpc(request) and not (data["purpose"] == "sale_share" and not data["granted"]):
            records.append(
                services.gpc_record(
                    subject=subject,
                    jurisdiction=data["jurisdiction"],
                    actor=request.user,
                    via=via,
                )
            )
        body = ConsentRecordSerializer(records, many=True).data
        return Response(body, status=status.HTTP_201_CREATED)


class ConsentStateView(APIView):
    """Each purpose granted or denied for a subject now, and why (consent.view)."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "identifier",
                str,
                required=True,
                description="type:value, or a bare email, +E.164 phone or an id the console "
                "has seen as one type only",
            )
        ],
        responses={200: ConsentStateSerializer, 400: ErrorSerializer},
    )
    def get(self, request):
        require(request.user, "consent.view", "see consent")
        text = request.query_params.get("identifier")
        if not text:
            raise ApplicationError(
                "Give ?identifier=type:value.", code=ConsentErrorCode.IDENTIFIER_REQUIRED
            )
        state = selectors.consent_state(identifier_resolve(text))
        body = {
            "subject": str(state.subject),
            "identifiers": [str(i) for i in state.identifiers],
            "jurisdiction": state.jurisdiction,
            "purposes": state.purposes,
        }
        return Response(ConsentStateSerializer(body).data)


class PurposeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Purposes (consent.view to read, consent.manage_purposes to change)."""

    lookup_value_regex = r"\d+"
    serializer_class = PurposeSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering = ["position", "code"]
    ordering_fields = ["position", "code", "name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Purpose.objects.none()
        return selectors.purpose_list(user=self.request.user)

    def get_object(self):
        return selectors.purpose_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(responses={201: PurposeSerializer, 409: ErrorSerializer})
    def create(self, request, *args, **kwargs):
        require(request.user, "consent.manage_purposes", "define purposes")
        serializer = PurposeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        purpose = services.purpose_create(actor=request.user, **serializer.validated_data)
        return Response(PurposeSerializer(purpose).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: PurposeSerializer, 409: ErrorSerializer})
    def partial_update(self, request, *args, **kwargs):
        purpose = self.get_object()
        require(request.user, "consent.manage_purposes", "change purposes")
        serializer = PurposeSerializer(purpose, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        purpose = services.purpose_update(
            actor=request.user, purpose=purpose, **serializer.validated_data
        )
        return Response(PurposeSerializer(purpose).data)
