"""The audit log pages."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from martech.common.views import FilteredListView

from . import selectors
from .filters import AuditEventFilter


class AuditEventListView(FilteredListView):
    template_name = "audit/event_list.html"
    partial_template_name = "audit/_event_table.html"
    filterset_class = AuditEventFilter
    paginate_by = 50

    def get_queryset(self):
        return selectors.audit_event_list(user=self.request.user, filters=self.request.GET)


class AuditEventDetailView(LoginRequiredMixin, TemplateView):
    template_name = "audit/event_detail.html"

    def get_context_data(self, **kwargs):
        event = selectors.audit_event_get(user=self.request.user, pk=kwargs["pk"])
        related = []
        if event.request_id:
            related = selectors.audit_event_list(
                user=self.request.user, filters={"request_id": event.request_id}
            ).exclude(pk=event.pk)[:20]
        return {**super().get_context_data(**kwargs), "event": event, "related": related}
