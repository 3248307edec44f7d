from django import forms
from django.utils import timezone

from .models import Channel, Jurisdiction


class RequestForm(forms.Form):
    identifier = forms.CharField(
        max_length=400,
        label="Identifier of the person",
        help_text="type:value, e.g. email:ana@example.com, user_id:cus_123, phone:+14155550100, "
        "anonymous_id:ajs-…",
    )
    channel = forms.ChoiceField(choices=Channel.choices)
    jurisdiction = forms.ChoiceField(choices=Jurisdiction.choices)
    received_on = forms.DateField(
        initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
