"""Filters of the intake, shared by the board, the list and the API."""

import django_filters
from django import forms
from django.db.models import Q

from apps.tools.choices import ToolCapability

from .choices import Approach, Outcome, Stage
from .models import IntakeRequest


class IntakeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title, problem or team"}),
    )
    stage = django_filters.ChoiceFilter(choices=Stage.choices)
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    approach = django_filters.ChoiceFilter(choices=Approach.choices)
    capability = django_filters.ChoiceFilter(
        label="Capability", choices=ToolCapability.choices, method="filter_capability"
    )
    requester = django_filters.NumberFilter(field_name="requester_id", min_value=1)
    team = django_filters.CharFilter(field_name="team", lookup_expr="iexact")
    started_after = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="Started from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    started_before = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Started until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = IntakeRequest
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(title__icontains=value)
            | Q(problem_statement__icontains=value)
            | Q(team__icontains=value)
        )

    def filter_capability(self, queryset, name, value):
        # JSON containment is PostgreSQL-only; filter in Python for the embedded SQLite.
        ids = [
            pk
            for pk, caps in queryset.values_list("pk", "proposed_capabilities")
            if value in (caps or [])
        ]
        return queryset.filter(pk__in=ids)
