import django_filters
from django import forms

from .choices import DeliveryStatus
from .models import Delivery, Destination


class DeliveryFilter(django_filters.FilterSet):
    destination = django_filters.ModelChoiceFilter(queryset=Destination.objects.order_by("name"))
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    q = django_filters.CharFilter(
        method="search", label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Message id, event or error"}
        ),
    )  # fmt: skip
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip

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
