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

    class Meta:
        model = Delivery
        fields = ["destination", "status"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(
            Q(message_id__icontains=value) | Q(event_name__icontains=value)
            | Q(error__icontains=value)
        )  # fmt: skip


class DeadLetterFilter(DeliveryFilter):
    class Meta:
        model = Delivery
        fields = ["destination"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("status", None)
