from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.access import require
from martech.common.api import ErrorSerializer

from .. import selectors, services
from ..models import Source
from .serializers import (
    RevokeSerializer,
    RotatedSerializer,
    RotateSerializer,
    SourceCreatedSerializer,
    SourceSerializer,
    WriteKeySerializer,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def _validated(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


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
        data = _validated(SourceSerializer, request)
        source, raw = services.source_create(actor=request.user, **data)
        body = SourceSerializer(source).data
        return Response({**body, "write_key": raw}, status=status.HTTP_201_CREATED)

    @extend_schema(request=SourceSerializer, responses={200: SourceSerializer, **ERRORS})
    def partial_update(self, request, *args, **kwargs):
        source = self.get_object()
        require(request.user, "events.manage_sources", "change sources")
        data = _validated(SourceSerializer, request, partial=True)
        source = services.source_update(actor=request.user, source=source, **data)
        return Response(SourceSerializer(source).data)

    @extend_schema(request=RotateSerializer, responses={201: RotatedSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="rotate-key", url_name="rotate-key",
            pagination_class=None)  # fmt: skip
    def rotate_key(self, request, *args, **kwargs):
        """Issue a new write key (returned once); the current keys keep working for
        ``overlap_hours`` (default from MARTECH_WRITE_KEY_OVERLAP_HOURS)."""
        source = self.get_object()
        require(request.user, "events.manage_sources", "rotate write keys")
        data = _validated(RotateSerializer, request)
        hours = data.get("overlap_hours", services.default_overlap_hours())
        key, raw = services.write_key_rotate(actor=request.user, source=source,
                                             overlap_hours=hours)  # fmt: skip
        return Response({"write_key": raw, "key": WriteKeySerializer(key).data},
                        status=status.HTTP_201_CREATED)  # fmt: skip

    @extend_schema(request=RevokeSerializer, responses={200: WriteKeySerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="revoke-key", url_name="revoke-key",
            pagination_class=None)  # fmt: skip
    def revoke_key(self, request, *args, **kwargs):
        """Revoke one write key at once (``key``: its id)."""
        source = self.get_object()
        require(request.user, "events.manage_sources", "revoke write keys")
        key = selectors.write_key_get(
            source=source, pk=_validated(RevokeSerializer, request)["key"]
        )
        return Response(
            WriteKeySerializer(services.write_key_revoke(actor=request.user, key=key)).data
        )
