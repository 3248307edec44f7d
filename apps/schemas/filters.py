"""Filters of the registry's lists, shared by the pages and the API."""

import django_filters
from django import forms
from django.apps import apps
from django.db.models import Q

from martech.common.filters import UtcIsoDateTimeFilter

from .choices import VersionStatus, ViolationKind
from .models import EventSchema, TrackingPlan, Violation


class SchemaFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Event, owner, property"}),
    )
    status = django_filters.ChoiceFilter(
        choices=VersionStatus.choices, method="filter_status", label="Has a version that is"
    )

    class Meta:
        model = EventSchema
        fields = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(name__icontains=value)
            | Q(owner__icontains=value)
            | Q(description__icontains=value)
            | Q(versions__fields__name__icontains=value)
        ).distinct()

    def filter_status(self, queryset, name, value):
        return queryset.filter(versions__status=value).distinct()


def source_choices() -> list[tuple[str, str]]:
    """The sources by name, as the event list offers them (a violation keeps its source's name)."""
    names = (
        apps.get_model("events", "Source").objects.order_by("name").values_list("name", flat=True)
    )
    return [("", "Any"), *((name, name) for name in names)]


# A day on the page; the API also takes a full ISO 8601 date-time.
_DATE = forms.DateInput(attrs={"type": "date"})


class ViolationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Event, message or path"}),
    )
    source = django_filters.CharFilter(
        lookup_expr="exact", label="Source", widget=forms.Select(choices=source_choices)
    )
    event_name = django_filters.CharFilter(
        lookup_expr="exact",
        label="Event",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Exact event name"}),
    )
    kind = django_filters.ChoiceFilter(choices=ViolationKind.choices, label="Kind")
    since = UtcIsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label="Since", widget=_DATE
    )
    until = UtcIsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label="Before", widget=_DATE
    )

    class Meta:
        model = Violation
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(event_name__icontains=value)
            | Q(message__icontains=value)
            | Q(path__icontains=value)
            | Q(event_ref__icontains=value)
        )


class PlanFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Plan, description or event name"}
        ),
    )
    updated_since = UtcIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Updated since", widget=_DATE
    )
    updated_before = UtcIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="lt", label="Updated before", widget=_DATE
    )

    class Meta:
        model = TrackingPlan
        fields = []

    def filter_q(self, queryset, name, value):
        with_event = TrackingPlan.objects.filter(versions__schema__name__icontains=value)
        return queryset.filter(
            Q(name__icontains=value)
            | Q(description__icontains=value)
            | Q(pk__in=with_event.values("pk"))
        )
