from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from apps.audit import selectors
from apps.audit.filters import AuditEventFilter
from apps.audit.models import AuditEvent
from martech.common.permissions import require_capability

from .serializers import AuditEventSerializer


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The append-only audit log: every change, by whom, when, from which request."""

    lookup_value_regex = r"\d+"
    serializer_class = AuditEventSerializer
    permission_classes = [require_capability(selectors.CAPABILITY)]
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditEventFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return selectors.audit_event_list(user=self.request.user)

    def get_permissions(self):
        # One event of a log the user may not read is not there for them: the selector's 404.
        if self.action == "retrieve":
            return [IsAuthenticated()]
        return super().get_permissions()

    def get_object(self):
        return selectors.audit_event_get(user=self.request.user, pk=self.kwargs["pk"])
