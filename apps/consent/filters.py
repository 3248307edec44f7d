"""Filters of the consent ledger's API."""

import django_filters
from django import forms
from django.db.models import Q

from apps.identity.normalise import InvalidIdentifier
from apps.identity.selectors import identifier_resolve
from martech.common.filters import StrictBooleanFilter, UtcIsoDateTimeFilter

from .choices import LegalBasis, Source
from .models import ConsentRecord, Purpose

_DATE = forms.DateInput(attrs={"type": "date"})


def _resolvable(value: str) -> None:
    try:
        identifier_resolve(value)
    except InvalidIdentifier as exc:
        raise forms.ValidationError(exc.message) from exc


class ConsentRecordFilter(django_filters.FilterSet):
    identifier = django_filters.CharFilter(
        method="filter_identifier", label="Identifier", validators=[_resolvable]
    )
    purpose = django_filters.CharFilter(field_name="purpose__code", label="Purpose")
    source = django_filters.ChoiceFilter(choices=Source.choices)
    granted = StrictBooleanFilter(yes="Granted", no="Denied")
    occurred_after = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")

    class Meta:
        model = ConsentRecord
        fields = []

    def filter_identifier(self, queryset, name, value):
        ident = identifier_resolve(value)
        return queryset.filter(identifier_type=ident.type, identifier_value=ident.value)


class PurposeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, code or description"}
        ),
    )
    legal_basis = django_filters.ChoiceFilter(choices=LegalBasis.choices, label="Legal basis")
    is_active = StrictBooleanFilter(
        field_name="is_active", label="Status", yes="In use", no="Not in use"
    )
    created_since = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Added since", widget=_DATE
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Added before", widget=_DATE
    )

    class Meta:
        model = Purpose
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(code__icontains=value) | Q(description__icontains=value)
        )
