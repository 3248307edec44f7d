"""Filters of the profile search, shared by the page and the API."""

import django_filters
from django import forms
from django.db.models import Q

from martech.common.errors import ApplicationError

from .choices import ProfileState
from .models import Profile
from .normalise import lookup_candidates


def identifier_validator(value: str) -> None:
    try:
        lookup_candidates(value)
    except ApplicationError as exc:
        raise forms.ValidationError(exc.message) from exc


class ProfileFilter(django_filters.FilterSet):
    identifier = django_filters.CharFilter(
        method="filter_identifier",
        label="Identifier",
        validators=[identifier_validator],
        help_text="An email, phone number or id; type:value to name the type.",
        widget=forms.TextInput(attrs={"placeholder": "ana@example.com, +4915…, cus_48213"}),
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

    def filter_queryset(self, queryset):
        if "identifier" in self.form.errors:
            return queryset.none()  # a lookup that could not be read finds nobody, not everyone
        return super().filter_queryset(queryset)

    def filter_identifier(self, queryset, name, value):
        match = Q()
        for ident in lookup_candidates(value):
            match |= Q(identifiers__type=ident.type, identifiers__value=ident.value)
        return queryset.filter(match)

    def filter_q(self, queryset, name, value):
        return queryset.filter(identifiers__value__icontains=value.strip().lower())
