"""Filters of the tool registry, shared by the page and the API."""

import django_filters
from django import forms
from django.db.models import Q

from .choices import ToolCapability, ToolStatus
from .models import Tool


class ToolFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, vendor or team"}),
    )
    status = django_filters.ChoiceFilter(choices=ToolStatus.choices)
    capability = django_filters.ChoiceFilter(
        label="Capability", choices=ToolCapability.choices, method="filter_capability"
    )
    team = django_filters.CharFilter(field_name="team", lookup_expr="iexact")
    renews_after = django_filters.DateFilter(
        field_name="renewal_date",
        lookup_expr="gte",
        label="Renews from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    renews_before = django_filters.DateFilter(
        field_name="renewal_date",
        lookup_expr="lte",
        label="Renews by",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Tool
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(vendor__icontains=value) | Q(team__icontains=value)
        )

    def filter_capability(self, queryset, name, value):
        # JSON containment is PostgreSQL-only; filter in Python for the embedded SQLite.
        ids = [
            pk for pk, caps in queryset.values_list("pk", "capabilities") if value in (caps or [])
        ]
        return queryset.filter(pk__in=ids)
