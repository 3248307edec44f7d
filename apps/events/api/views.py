from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.access.rules import require
from martech.common.api import ErrorSerializer, validated_body
from martech.common.errors import ApplicationError

from .. import selectors, services
from ..choices import EventStatus
from ..errors import EventsErrorCode
from ..filters import EventFilter
from ..models import Event, Source
from .serializers import (
    EventSerializer,
    ReplayedSerializer,
    ReplaySerializer,
    RevokeSerializer,
    RotatedSerializer,
    RotateSerializer,
    SourceCreatedSerializer,
    SourceSerializer,
    WriteKeySerializer,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class SourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sources that send events (events.view). Creating one returns its write key once;
    keys rotate with an overlap and can be revoked (events.manage_sources)."""

    lookup_value_regex = r"\d+"
    serializer_class = SourceSerializer
    filterset_fields = {"environment": ["exact"], "kind": ["exact"], "is_active": ["exact"]}
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Source.objects.none()
        require(self.request.user, "events.view", "see sources")
        return selectors.source_list(user=self.request.user).prefetch_related("write_keys")

    def get_object(self):
        return selectors.source_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=SourceSerializer, responses={201: SourceCreatedSerializer, **ERRORS})
    def create(self, request, *args, **kwargs):
        require(request.user, "events.manage_sources", "create sources")
        data = validated_body(SourceSerializer, request)
        source, raw = services.source_create(actor=request.user, **data)
        body = SourceSerializer(source).data
        return Response({**body, "write_key": raw}, status=status.HTTP_201_CREATED)

    @extend_schema(request=SourceSerializer, responses={200: SourceSerializer, **ERRORS})
    def partial_update(self, request, *args, **kwargs):
        source = self.get_object()
        require(request.user, "events.manage_sources", "change sources")
        data = validated_body(SourceSerializer, request, partial=True)
        source = services.source_update(actor=request.user, source=source, **data)
        return Response(SourceSerializer(source).data)

    @extend_schema(request=RotateSerializer, responses={201: RotatedSerializer, **ERRORS})
    @action(
        detail=True,
        methods=["post"],
        url_path="rotate-key",
        url_name="rotate-key",
        pagination_class=None,
    )
    def rotate_key(self, request, *args, **kwargs):
        """Issue a new write key (returned once); the current keys keep working for
        ``overlap_hours`` (default from MARTECH_WRITE_KEY_OVERLAP_HOURS)."""
        source = self.get_object()
        require(request.user, "events.manage_sources", "rotate write keys")
        data = validated_body(RotateSerializer, request)
        hours = data.get("overlap_hours", services.default_overlap_hours())
        key, raw = services.write_key_rotate(actor=request.user, source=source, overlap_hours=hours)
        return Response(
            {"write_key": raw, "key": WriteKeySerializer(key).data}, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=RevokeSerializer, responses={200: WriteKeySerializer, **ERRORS})
    @action(
        detail=True,
        methods=["post"],
        url_path="revoke-key",
        url_name="revoke-key",
        pagination_class=None,
    )
    def revoke_key(self, request, *args, **kwargs):
        """Revoke one write key at once (``key``: its id)."""
        source = self.get_object()
        require(request.user, "events.manage_sources", "revoke write keys")
        key = selectors.write_key_get(
            source=source, pk=validated_body(RevokeSerializer, request)["key"]
        )
        return Response(
            WriteKeySerializer(services.write_key_revoke(actor=request.user, key=key)).data
        )


class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Events as stored by the collection API, newest first (events.view); filter by
    ``source``, ``status``, ``type``, ``q`` and ``received_after``."""

    lookup_value_regex = r"\d+"
    serializer_class = EventSerializer
    filterset_class = EventFilter
    ordering_fields = ["received_at", "timestamp", "id"]
    ordering = ["-received_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Event.objects.none()
        require(self.request.user, "events.view", "see events")
        return selectors.event_list(user=self.request.user)

    def get_object(self):
        return selectors.event_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=ReplaySerializer, responses={200: ReplayedSerializer, **ERRORS})
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def replay(self, request, *args, **kwargs):
        """Send quarantined or failed events through the pipeline again (events.replay):
        ``events`` (ids) or every quarantined event of ``source``."""
        require(request.user, "events.replay", "replay events")
        data = validated_body(ReplaySerializer, request)
        if bool(data.get("events")) == bool(data.get("source")):
            raise ApplicationError("Give either events or source.", code=EventsErrorCode.INVALID)
        if data.get("source"):
            source = selectors.source_get(user=request.user, pk=data["source"])
            events = list(source.events.filter(status=EventStatus.QUARANTINED).only("pk")[:10_000])
        else:
            events = list(selectors.event_list(user=request.user).filter(pk__in=data["events"]))
        return Response({"replayed": services.events_replay(actor=request.user, events=events)})
