"""Filters of the profile search, shared by the page and the API."""

import django_filters
from django import forms

from martech.common.errors import ApplicationError

from .choices import ProfileState
from .models import Profile
from .normalise import parse


def identifier_validator(value: str) -> None:
    try:
        parse(value)
    except ApplicationError as exc:
        raise forms.ValidationError(exc.message) from exc


class ProfileFilter(django_filters.FilterSet):
    identifier = django_filters.CharFilter(
        method="filter_identifier",
        label="Identifier",
        validators=[identifier_validator],
        widget=forms.TextInput(attrs={"placeholder": "email:ana@example.com"}),
    )
    q = django_filters.CharFilter(
        method="filter_q",
        label="Contains",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Part of any value"}),
    )
    state = django_filters.ChoiceFilter(choices=ProfileState.choices)

    class Meta:
        model = Profile
        fields = []

    def filter_identifier(self, queryset, name, value):
        ident = parse(value)
        return queryset.filter(identifiers__type=ident.type, identifiers__value=ident.value)

    def filter_q(self, queryset, name, value):
        return queryset.filter(identifiers__value__icontains=value.strip().lower())
