"""Filters of the erasure request list."""

import django_filters
from django import forms
from django.db.models import Q

from .models import OPEN, ErasureRequest, Jurisdiction, RequestStatus

_DATE = forms.DateInput(attrs={"type": "date"})

STATE_CHOICES = [("open", "Open"), *RequestStatus.choices, ("all", "All")]


class ErasureRequestFilter(django_filters.FilterSet):
    """The list opens on the open requests: no ``state`` reads as ``state=open``."""

    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Reference or identifier"}),
    )
    state = django_filters.ChoiceFilter(
        choices=STATE_CHOICES, method="filter_state", label="Status", empty_label=None
    )
    jurisdiction = django_filters.ChoiceFilter(choices=Jurisdiction.choices, label="Law")
    received_since = django_filters.DateFilter(
        field_name="received_on", lookup_expr="gte", label="Received since", widget=_DATE
    )
    received_before = django_filters.DateFilter(
        field_name="received_on", lookup_expr="lte", label="Received until", widget=_DATE
    )

    class Meta:
        model = ErasureRequest
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not data.get("state"):
            data = data.copy()
            data["state"] = "open"
        super().__init__(data, *args, **kwargs)

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(subject_masked__icontains=value)
            | Q(subject_type__icontains=value)
        )

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(status__in=OPEN)
        if value in RequestStatus.values:
            return queryset.filter(status=value)
        return queryset
