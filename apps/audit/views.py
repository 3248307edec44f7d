"""The audit log pages."""

from itertools import chain

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from martech.common.exports import csv_response
from martech.common.listing import SORT_PARAM, apply_sort, parse_sort
from martech.common.views import FilteredListView

from . import selectors
from .filters import AuditEventFilter, action_words

SORTABLE = {
    "time": "occurred_at",
    "actor": "actor_label",
    "action": "action",
    "target": ("target_type__app_label", "target_type__model", "target_repr"),
}


class AuditEventListView(FilteredListView):
    template_name = "audit/event_list.html"
    partial_template_name = "audit/_event_table.html"
    filterset_class = AuditEventFilter
    paginate_by = 50
    sortable = SORTABLE
    default_sort = "-time"

    def get_queryset(self):
        return selectors.audit_event_list(user=self.request.user, filters=self.request.GET)


class AuditEventExportView(LoginRequiredMixin, View):
    """The audit events the page's filters select, in its order, as a CSV file."""

    def get(self, request):
        events = selectors.audit_event_list(user=request.user, filters=request.GET)
        events = apply_sort(events, parse_sort(request.GET.get(SORT_PARAM), SORTABLE), SORTABLE)
        header = [
            "occurred_at",
            "actor",
            "system",
            "action",
            "action_words",
            "target_type",
            "target_id",
            "target",
            "changed_fields",
            "request_id",
            "ip_address",
        ]
        rows = (
            [
                event.occurred_at.isoformat(),
                event.actor_label,
                "yes" if event.is_system else "no",
                event.action,
                action_words(event.action),
                event.target_label if event.target_type_id else "",
                event.target_id,
                event.target_repr,
                " ".join(sorted(event.changes or {})),
                event.request_id,
                event.ip_address,
            ]
            for event in events.iterator(chunk_size=2000)
        )
        return csv_response(f"audit-{timezone.localdate().isoformat()}.csv", chain([header], rows))


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
