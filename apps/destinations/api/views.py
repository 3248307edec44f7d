from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.access.rules import require
from apps.destinations.errors import DestinationsErrorCode
from martech.common.api import ErrorSerializer, validated_body
from martech.common.errors import ApplicationError

from .. import selectors, services
from ..adapters.warehouse import DEFAULT_SCHEMA
from ..filters import DeadLetterFilter, DeliveryFilter
from ..models import Delivery, Destination
from ..warehouse.publish import CONSTRUCTION
from .serializers import (
    CaptureSerializer,
    DeadLetterReplaySerializer,
    DeadLettersReplayedSerializer,
    DeliverySerializer,
    DestinationSerializer,
    HashKeySerializer,
    SendTestResultSerializer,
    SendTestSerializer,
    WarehouseLoadSerializer,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class DestinationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Destinations (destinations.view); create and change with destinations.manage, and
    destinations.send_production for production ones. Credentials are write-only."""

    lookup_value_regex = r"\d+"
    serializer_class = DestinationSerializer
    filterset_fields = {"environment": ["exact"], "adapter": ["exact"], "is_enabled": ["exact"]}
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Destination.objects.none()
        require(self.request.user, "destinations.view", "see destinations")
        return selectors.destination_list(user=self.request.user)

    def get_object(self):
        return selectors.destination_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=DestinationSerializer, responses={201: DestinationSerializer, **ERRORS})
    def create(self, request, *args, **kwargs):
        require(request.user, "destinations.manage", "create destinations")
        data = validated_body(DestinationSerializer, request)
        destination = services.destination_create(actor=request.user, **data)
        return Response(
            DestinationSerializer(destination, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=DestinationSerializer, responses={200: DestinationSerializer, **ERRORS})
    def partial_update(self, request, *args, **kwargs):
        destination = self.get_object()
        require(request.user, "destinations.manage", "change destinations")
        data = validated_body(DestinationSerializer, request, partial=True)
        destination = services.destination_update(
            actor=request.user, destination=destination, **data
        )
        return Response(DestinationSerializer(destination, context={"request": request}).data)

    @extend_schema(
        request=SendTestSerializer,
        responses={201: CaptureSerializer(many=True), 200: SendTestResultSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="send-test",
        url_name="send-test",
        pagination_class=None,
        filterset_fields=None,
    )
    def send_test(self, request, *args, **kwargs):
        """Build the vendor requests for a sample event and keep them in the sandbox inbox
        (credentials masked); nothing is sent to the vendor (201, the captures).

        With ``{"send": true}`` the same requests are also sent to the vendor, and the
        answer is ``{"captures": [...], "answers": [...]}`` (200) with each request's HTTP
        status and body, credentials scrubbed; a production destination needs
        destinations.send_production (403 otherwise)."""
        destination = self.get_object()
        # A bare POST (any content type, no JSON body) only captures, as it always did.
        sends_json = (request.content_type or "").startswith("application/json")
        data = validated_body(SendTestSerializer, request) if sends_json and request.body else {}
        if not data.get("send"):
            captures = services.send_test(actor=request.user, destination=destination)
            return Response(
                CaptureSerializer(captures, many=True).data, status=status.HTTP_201_CREATED
            )
        captures, answers = services.send_test(
            actor=request.user, destination=destination, send=True
        )
        return Response(
            {
                "captures": CaptureSerializer(captures, many=True).data,
                "answers": [a.as_dict() for a in answers],
            }
        )

    @extend_schema(responses={200: WarehouseLoadSerializer(many=True), **ERRORS})
    @action(detail=True, methods=["get"], filterset_fields=None)
    def loads(self, request, *args, **kwargs):
        """A warehouse destination's loads, newest first: what each read and loaded, rows
        per table, columns added, type conflicts, lag and error (empty for a destination
        sent to event by event)."""
        destination = self.get_object()
        page = self.paginate_queryset(destination.loads.order_by("-id"))
        return self.get_paginated_response(WarehouseLoadSerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: None, **ERRORS}, operation_id="destination_load")
    @action(detail=True, methods=["post"], url_path="load", url_name="load", pagination_class=None)
    def load_now(self, request, *args, **kwargs):
        """Start a load of a warehouse destination now (202): destinations.manage, and
        destinations.send_production for a production one."""
        destination = self.get_object()
        services.warehouse_load_now(actor=request.user, destination=destination)
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: HashKeySerializer, **ERRORS})
    @action(
        detail=True,
        methods=["post"],
        url_path="hash-key",
        url_name="hash-key",
        pagination_class=None,
        filterset_fields=None,
    )
    def hash_key(self, request, *args, **kwargs):
        """The key of a warehouse destination's ``deleted_users`` hashes, shown once
        (destinations.manage); 409 ``key_shown`` after that, 400 ``not_loaded`` for a
        destination that is not a warehouse."""
        destination = self.get_object()
        key = services.warehouse_key_show(actor=request.user, destination=destination)
        schema = (destination.config or {}).get("schema") or DEFAULT_SCHEMA
        response = Response(
            {"key": key, "table": f"{schema}.hash_key", "construction": CONSTRUCTION}
        )
        response["Cache-Control"] = "no-store"
        return response


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every delivery: event, destination, consent snapshot used, outcome, attempts and the
    vendor's response code (destinations.view). Filter by ``destination``, ``status``, ``q``."""

    lookup_value_regex = r"\d+"
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ["id", "created_at", "last_attempt_at"]
    ordering = ["-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        require(self.request.user, "destinations.view", "see deliveries")
        return selectors.delivery_list(user=self.request.user)

    def get_object(self):
        return selectors.delivery_get(user=self.request.user, pk=self.kwargs["pk"])


class DeadLetterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deliveries that could not succeed, with the reason (destinations.view); replay them
    one by one or in bulk (destinations.replay, and destinations.send_production for a
    production destination). Replay checks consent and suppression again."""

    lookup_value_regex = r"\d+"
    serializer_class = DeliverySerializer
    filterset_class = DeadLetterFilter
    ordering_fields = ["id", "last_attempt_at"]
    ordering = ["-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        require(self.request.user, "destinations.view", "see dead letters")
        return selectors.dead_letter_list(user=self.request.user)

    def get_object(self):
        found = selectors.dead_letter_list(user=self.request.user).filter(pk=self.kwargs["pk"])
        found = found.first()
        if found is None:
            from martech.common.errors import NotFoundError

            raise NotFoundError("No such dead letter.")
        return found

    @extend_schema(
        request=None,
        responses={200: DeadLettersReplayedSerializer, **ERRORS},
        operation_id="dead_letters_replay_one",
    )
    @action(detail=True, methods=["post"], pagination_class=None, filterset_class=None)
    def replay(self, request, *args, **kwargs):
        """Replay this dead letter."""
        delivery = self.get_object()
        return Response(services.deliveries_replay(actor=request.user, deliveries=[delivery]))

    @extend_schema(
        request=DeadLetterReplaySerializer,
        responses={200: DeadLettersReplayedSerializer, **ERRORS},
        operation_id="dead_letters_replay_many",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="replay",
        url_name="replay-many",
        pagination_class=None,
        filterset_class=None,
    )
    def replay_many(self, request, *args, **kwargs):
        """Replay ``deliveries`` (ids) or every dead letter of ``destination``."""
        require(request.user, "destinations.replay", "replay dead letters")
        data = validated_body(DeadLetterReplaySerializer, request)
        if bool(data.get("deliveries")) == bool(data.get("destination")):
            raise ApplicationError(
                "Give either deliveries or destination.", code=DestinationsErrorCode.INVALID
            )
        rows = selectors.dead_letter_list(user=request.user)
        if data.get("destination"):
            destination = selectors.destination_get(user=request.user, pk=data["destination"])
            rows = rows.filter(destination=destination)
        else:
            rows = rows.filter(pk__in=data["deliveries"])
        counts = services.deliveries_replay(actor=request.user, deliveries=list(rows[:10_000]))
        return Response(counts)
