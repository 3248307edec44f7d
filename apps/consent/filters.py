"""Filters of the consent ledger's API."""

import django_filters
from django import forms

from apps.identity.normalise import InvalidIdentifier
from apps.identity.selectors import identifier_resolve
from martech.common.filters import StrictBooleanFilter, UtcIsoDateTimeFilter

from .choices import Source
from .models import ConsentRecord


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
