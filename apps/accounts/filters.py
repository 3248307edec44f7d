"""Filters of the people directory, shared by the page and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from martech.common.filters import StrictBooleanFilter

from .models import ApiToken, Notification, User


class UserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, email, title or team"}
        ),
    )
    team = django_filters.CharFilter(field_name="team", lookup_expr="iexact")
    is_active = StrictBooleanFilter(
        field_name="is_active", label="Status", yes="Active", no="Inactive"
    )
    started_after = django_filters.DateFilter(
        field_name="start_date",
        lookup_expr="gte",
        label="Started on or after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    started_before = django_filters.DateFilter(
        field_name="start_date",
        lookup_expr="lte",
        label="Started on or before",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = User
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(full_name__icontains=value)
            | Q(email__icontains=value)
            | Q(job_title__icontains=value)
            | Q(team__icontains=value)
        )


class ApiTokenFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name")
    status = django_filters.ChoiceFilter(
        label="Status",
        method="filter_status",
        choices=[("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")],
    )

    class Meta:
        model = ApiToken
        fields = []

    def filter_status(self, queryset, name, value):
        now = timezone.now()
        if value == "active":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if value == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        return queryset.filter(revoked_at__isnull=False)


def _search(*fields):
    def method(self, queryset, name, value):
        query = Q()
        for field in fields:
            query |= Q(**{f"{field}__icontains": value})
        return queryset.filter(query)

    return method


class ApiTokenPageFilter(ApiTokenFilter):
    """The token page's filter bar: the API's filters, a search box and the date created."""

    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Token name"}),
    )
    created_from = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="Created from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_until = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Created until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class NotificationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title or text"}),
    )
    status = django_filters.ChoiceFilter(
        choices=(("unread", "Unread"), ("read", "Read")), method="filter_status", label="Status"
    )
    received_from = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="Received from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_until = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Received until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Notification
        fields = []

    filter_q = _search("title", "body")

    def filter_status(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value == "unread")
