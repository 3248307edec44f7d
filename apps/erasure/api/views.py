from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.access.rules import require
from martech.common.api import ErrorSerializer, validated_body
from martech.common.errors import NotFoundError

from .. import selectors, services
from ..models import ErasureRequest
from .serializers import (
    ErasureNoteSerializer,
    ErasureReasonSerializer,
    ErasureRequestSerializer,
    ErasureTaskActionSerializer,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class ErasureRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Erasure requests (erasure.view; logging, verifying, retrying and confirming
    erasure.request; approval erasure.approve). Identifiers are answered masked."""

    lookup_value_regex = r"\d+"
    serializer_class = ErasureRequestSerializer
    filterset_fields = {"status": ["exact"], "jurisdiction": ["exact"]}
    ordering_fields = ["created_at", "deadline", "id"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ErasureRequest.objects.none()
        require(self.request.user, "erasure.view", "see erasure requests")
        return selectors.request_list(user=self.request.user).prefetch_related(
            "tasks", "identifiers"
        )

    def get_object(self):
        return selectors.request_get(user=self.request.user, pk=self.kwargs["pk"])

    def _answer(self, request_obj, code=status.HTTP_200_OK):
        fresh = selectors.request_get(user=self.request.user, pk=request_obj.pk)
        return Response(ErasureRequestSerializer(fresh).data, status=code)

    @extend_schema(
        request=ErasureRequestSerializer, responses={201: ErasureRequestSerializer, **ERRORS}
    )
    def create(self, request, *args, **kwargs):
        require(request.user, "erasure.request", "log erasure requests")
        data = validated_body(ErasureRequestSerializer, request)
        created = services.request_create(actor=request.user, **data)
        return self._answer(created, status.HTTP_201_CREATED)

    @extend_schema(
        request=ErasureNoteSerializer, responses={200: ErasureRequestSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"], pagination_class=None, filterset_fields=None)
    def verify(self, request, *args, **kwargs):
        """The requester is who they say (``note``: how that was checked)."""
        req = self.get_object()  # 404 before any word about the body
        data = validated_body(ErasureNoteSerializer, request)
        done = services.request_verify(actor=request.user, request=req, note=data["note"])
        return self._answer(done)

    @extend_schema(request=None, responses={200: ErasureRequestSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_fields=None)
    def approve(self, request, *args, **kwargs):
        """Suppress the person at once, erase them in the console, start the tools' tasks."""
        done = services.request_approve(actor=request.user, request=self.get_object())
        return self._answer(done)

    @extend_schema(
        request=ErasureReasonSerializer, responses={200: ErasureRequestSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"], pagination_class=None, filterset_fields=None)
    def extend(self, request, *args, **kwargs):
        """Extend the deadline once, with a reason (GDPR: two months; CCPA: to 90 days)."""
        req = self.get_object()  # 404 before any word about the body
        data = validated_body(ErasureReasonSerializer, request)
        done = services.request_extend(actor=request.user, request=req, reason=data["reason"])
        return self._answer(done)

    def _task(self, request_obj, pk):
        task = request_obj.tasks.filter(pk=pk).first()
        if task is None:
            raise NotFoundError("No such task in this request.")
        return task

    @extend_schema(
        request=ErasureTaskActionSerializer, responses={200: ErasureRequestSerializer, **ERRORS}
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="retry-task",
        url_name="retry-task",
        pagination_class=None,
        filterset_fields=None,
    )
    def retry_task(self, request, *args, **kwargs):
        """Retry a failed task (``task``: its id)."""
        req = self.get_object()  # 404 before any word about the body
        data = validated_body(ErasureTaskActionSerializer, request)
        services.task_retry(actor=request.user, task=self._task(req, data["task"]))
        return self._answer(req)

    @extend_schema(
        request=ErasureTaskActionSerializer, responses={200: ErasureRequestSerializer, **ERRORS}
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="confirm-manual-task",
        url_name="confirm-manual-task",
        pagination_class=None,
        filterset_fields=None,
    )
    def confirm_manual_task(self, request, *args, **kwargs):
        """The owner erased the person by hand (``task``; ``note``: how)."""
        req = self.get_object()  # 404 before any word about the body
        data = validated_body(ErasureTaskActionSerializer, request)
        services.task_confirm(
            actor=request.user, task=self._task(req, data["task"]), note=data["note"]
        )
        return self._answer(req)
