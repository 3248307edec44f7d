"""Filters of the event stream, shared by the page and the API."""

import django_filters
from django import forms
from django.db.models import Q

from apps.schemas.choices import Enforcement
from martech.common.filters import StrictBooleanFilter, UtcIsoDateTimeFilter

from .choices import Environment, EventStatus, MessageType, SourceKind
from .models import Event, Source

# A day on the page; the API also takes a full ISO 8601 date-time.
_DATE = forms.DateInput(attrs={"type": "date"})


class EventFilter(django_filters.FilterSet):
    source = django_filters.ModelChoiceFilter(
        queryset=Source.objects.order_by("name"), empty_label="Any"
    )
    status = django_filters.ChoiceFilter(choices=EventStatus.choices)
    type = django_filters.ChoiceFilter(choices=MessageType.choices)
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Event, user, message id"}),
    )
    received_after = UtcIsoDateTimeFilter(
        field_name="received_at", lookup_expr="gte", label="Received from", widget=_DATE
    )
    received_before = UtcIsoDateTimeFilter(
        field_name="received_at", lookup_expr="lt", label="Received before", widget=_DATE
    )

    class Meta:
        model = Event
        fields = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(name__icontains=value)
            | Q(message_id=value)
            | Q(user_id=value)
            | Q(anonymous_id=value)
        )


class SourceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Source, description or tracking plan"}
        ),
    )
    kind = django_filters.ChoiceFilter(choices=SourceKind.choices, label="Kind")
    environment = django_filters.ChoiceFilter(choices=Environment.choices, label="Environment")
    enforcement = django_filters.ChoiceFilter(choices=Enforcement.choices, label="Enforcement")
    is_active = StrictBooleanFilter(
        field_name="is_active", label="Status", yes="Active", no="Inactive"
    )
    created_since = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="Created from", widget=_DATE
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Created until", widget=_DATE
    )

    class Meta:
        model = Source
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(description__icontains=value)
            | Q(plan__name__icontains=value)
        )
