"""Filters of roles, trainings, grants, requests and reviews, shared by the pages and the API."""

import django_filters
from django import forms
from django.db.models import Q

from martech.common.filters import StrictBooleanFilter

from .models import (
    AccessAssignment,
    AccessRequest,
    AccessRequestStatus,
    AssignmentSource,
    Grant,
    ReviewCampaign,
    ReviewDecision,
    ReviewItem,
    Role,
    Training,
    TrainingCompletion,
)


def _search(*fields):
    def method(self, queryset, name, value):
        query = Q()
        for field in fields:
            query |= Q(**{f"{field}__icontains": value})
        return queryset.filter(query)

    return method


class RoleFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    capability = django_filters.CharFilter(
        field_name="capability_rules__capability", label="Has capability", distinct=True
    )
    owner = django_filters.NumberFilter(field_name="owner_id")

    class Meta:
        model = Role
        fields = []

    filter_q = _search("name", "description")


class TrainingFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = Training
        fields = []

    filter_q = _search("name", "description")


class CompletionFilter(django_filters.FilterSet):
    user = django_filters.NumberFilter(field_name="user_id")
    training = django_filters.NumberFilter(field_name="training_id")

    class Meta:
        model = TrainingCompletion
        fields = []


class AssignmentFilter(django_filters.FilterSet):
    user = django_filters.NumberFilter(field_name="user_id")
    role = django_filters.NumberFilter(field_name="role_id")
    source = django_filters.ChoiceFilter(choices=AssignmentSource.choices)
    active = StrictBooleanFilter(field_name="ended_at", lookup_expr="isnull", label="Active")

    class Meta:
        model = AccessAssignment
        fields = []


class GrantFilter(django_filters.FilterSet):
    user = django_filters.NumberFilter(field_name="user_id")
    capability = django_filters.CharFilter(field_name="capability")
    active = StrictBooleanFilter(method="filter_active", label="In force")

    class Meta:
        model = Grant
        fields = []

    def filter_active(self, queryset, name, value):
        effective = Grant.objects.effective().values("pk")
        return queryset.filter(pk__in=effective) if value else queryset.exclude(pk__in=effective)


class AccessRequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Person, role, capability or reason"}
        ),
    )
    status = django_filters.ChoiceFilter(choices=AccessRequestStatus.choices)
    mine = StrictBooleanFilter(method="filter_mine", label="My requests")

    class Meta:
        model = AccessRequest
        fields = []

    def __init__(self, *args, request_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_user = request_user

    filter_q = _search(
        "requester__full_name", "requester__email", "role__name", "capability", "justification"
    )

    def filter_mine(self, queryset, name, value):
        user = self.request_user or getattr(self.request, "user", None)
        if user is None:
            return queryset
        if value:
            return queryset.filter(requester=user)
        return queryset.exclude(requester=user)


class ReviewItemFilter(django_filters.FilterSet):
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    user = django_filters.NumberFilter(field_name="user_id")
    decision = django_filters.ChoiceFilter(choices=ReviewDecision.choices)

    class Meta:
        model = ReviewItem
        fields = []


class ReviewCampaignFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Review or description"}),
    )
    status = django_filters.ChoiceFilter(
        choices=(("open", "Open"), ("closed", "Closed")), method="filter_status", label="Status"
    )
    deadline_from = django_filters.DateFilter(
        field_name="deadline",
        lookup_expr="date__gte",
        label="Deadline from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    deadline_until = django_filters.DateFilter(
        field_name="deadline",
        lookup_expr="date__lte",
        label="Deadline until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = ReviewCampaign
        fields = []

    filter_q = _search("name", "description")

    def filter_status(self, queryset, name, value):
        return queryset.filter(closed_at__isnull=value == "open")
