"""Filters of the sync, model and warehouse lists."""

import django_filters
from django import forms
from django.db.models import Q

from martech.common.filters import StrictBooleanFilter, UtcIsoDateTimeFilter

from .models import SqlModel, Sync, SyncMode, SyncObject, Warehouse
from .warehouses import kinds

_DATE = forms.DateInput(attrs={"type": "date"})


class SyncFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Sync, model or destination"}
        ),
    )
    object = django_filters.ChoiceFilter(choices=SyncObject.choices, label="Object")
    mode = django_filters.ChoiceFilter(choices=SyncMode.choices, label="Mode")
    is_paused = StrictBooleanFilter(
        field_name="is_paused", label="Status", yes="Paused", no="Running"
    )
    ran_since = UtcIsoDateTimeFilter(
        field_name="last_run_at", lookup_expr="gte", label="Last run since", widget=_DATE
    )
    ran_before = UtcIsoDateTimeFilter(
        field_name="last_run_at", lookup_expr="lt", label="Last run before", widget=_DATE
    )

    class Meta:
        model = Sync
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(model__name__icontains=value)
            | Q(destination__name__icontains=value)
            | Q(description__icontains=value)
        )


class ModelFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Model, description or primary key"}
        ),
    )
    warehouse = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.order_by("name"), label="Warehouse"
    )
    changed_since = UtcIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Changed since", widget=_DATE
    )
    changed_before = UtcIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="lt", label="Changed before", widget=_DATE
    )

    class Meta:
        model = SqlModel
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(description__icontains=value)
            | Q(primary_key__icontains=value)
        )


class WarehouseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Warehouse, where or description"}
        ),
    )
    kind = django_filters.ChoiceFilter(choices=kinds, label="Kind")
    last_test_ok = StrictBooleanFilter(
        field_name="last_test_ok", label="Last test", yes="Connected", no="Failed"
    )
    tested_since = UtcIsoDateTimeFilter(
        field_name="last_tested_at", lookup_expr="gte", label="Tested since", widget=_DATE
    )
    tested_before = UtcIsoDateTimeFilter(
        field_name="last_tested_at", lookup_expr="lt", label="Tested before", widget=_DATE
    )

    class Meta:
        model = Warehouse
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(display__icontains=value) | Q(description__icontains=value)
        )
