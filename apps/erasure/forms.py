from django import forms
from django.utils import timezone

from apps.identity.normalise import InvalidIdentifier
from apps.identity.selectors import identifier_resolve

from .models import Channel, Jurisdiction


class RequestForm(forms.Form):
    identifier = forms.CharField(
        max_length=400,
        label="Identifier of the person",
        help_text="An email, phone number or id (ana@example.com, +14155550100, cus_123); "
        "type:value to name the type, e.g. user_id:cus_123 or anonymous_id:ajs-…",
    )
    channel = forms.ChoiceField(choices=Channel.choices)
    jurisdiction = forms.ChoiceField(choices=Jurisdiction.choices)
    received_on = forms.DateField(
        initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_identifier(self):
        """The one identifier meant (an Ident), told under the field when it is unclear."""
        try:
            return identifier_resolve(self.cleaned_data["identifier"])
        except InvalidIdentifier as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
