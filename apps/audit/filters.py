"""The audit log's filters, shared by the page and the API."""

import django_filters
from django import forms
from django.db.models import Q

from martech.common.filters import StrictBooleanFilter, UtcIsoDateTimeFilter

from .models import AuditEvent

_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"})


class AuditEventFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Action, actor or target"}),
    )
    action = django_filters.CharFilter(
        field_name="action", lookup_expr="startswith", label="Action (prefix)"
    )
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="iexact", label="Actor")
    target_type = django_filters.CharFilter(
        method="filter_target_type",
        label="Target type",
        widget=forms.TextInput(attrs={"placeholder": "app.model, e.g. accounts.user"}),
    )
    target_id = django_filters.CharFilter(field_name="target_id", label="Target id")
    request_id = django_filters.CharFilter(field_name="request_id", label="Request id")
    occurred_after = UtcIsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label="From", widget=_DATETIME
    )
    occurred_before = UtcIsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label="Until", widget=_DATETIME
    )
    system = StrictBooleanFilter(
        field_name="actor", lookup_expr="isnull", label="Actor kind", yes="System", no="People"
    )

    class Meta:
        model = AuditEvent
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(action__icontains=value)
            | Q(actor_label__icontains=value)
            | Q(target_repr__icontains=value)
        )

    def filter_target_type(self, queryset, name, value):
        app_label, _, model = value.partition(".")
        return queryset.filter(target_type__app_label=app_label, target_type__model=model.lower())
