import django_filters
from django import forms

from martech.common.filters import StrictBooleanFilter

from .choices import DeliveryStatus, Environment
from .models import Delivery, Destination


class DeliveryFilter(django_filters.FilterSet):
    destination = django_filters.ModelChoiceFilter(queryset=Destination.objects.order_by("name"))
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Message id, event or error"}
        ),
    )
    created_after = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_before = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Delivery
        fields = ["destination", "status"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        from .selectors import vendor_text_scope

        found = Q(message_id__icontains=value) | Q(event_name__icontains=value)
        # The vendor's words are searched only where the user may read them (a search is an
        # oracle for text it does not show).
        readable = vendor_text_scope(getattr(self.request, "user", None))
        if readable is not None:
            found |= Q(error__icontains=value) & readable
        return queryset.filter(found)


class DeadLetterFilter(DeliveryFilter):
    class Meta:
        model = Delivery
        fields = ["destination"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("status", None)


def _adapter_choices():
    from .adapters import adapter_choices

    return adapter_choices()


class DestinationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search_destinations",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Destination, tool or description"}
        ),
    )
    adapter = django_filters.ChoiceFilter(choices=_adapter_choices, label="Vendor API")
    environment = django_filters.ChoiceFilter(choices=Environment.choices, label="Environment")
    is_enabled = StrictBooleanFilter(
        field_name="is_enabled", label="Status", yes="Enabled", no="Disabled"
    )
    created_after = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="Created from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_before = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Created until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Destination
        fields = []

    def search_destinations(self, queryset, name, value):
        # Not the last error: the vendor's words are not for everyone who sees the list.
        from django.db.models import Q

        return queryset.filter(
            Q(name__icontains=value)
            | Q(tool__name__icontains=value)
            | Q(adapter__icontains=value)
            | Q(description__icontains=value)
        )
