from django import forms

from .choices import Jurisdiction, LegalBasis
from .models import Purpose


class LookupForm(forms.Form):
    identifier = forms.CharField(
        max_length=400,
        widget=forms.TextInput(attrs={"placeholder": "ana@example.com, +4915…, cus_48213"}),
        help_text="An email, phone number or id; type:value to name the type.",
    )


class RecordForm(forms.Form):
    identifier = forms.CharField(max_length=400)
    purpose = forms.ModelChoiceField(
        queryset=Purpose.objects.filter(is_active=True), to_field_name="code"
    )
    granted = forms.TypedChoiceField(
        choices=(("true", "Granted"), ("false", "Denied")), coerce=lambda v: v == "true"
    )
    jurisdiction = forms.ChoiceField(choices=Jurisdiction.choices)
    notice_version = forms.CharField(max_length=40, required=False)
    note = forms.CharField(
        max_length=500, required=False, help_text="How the person told you (kept as evidence)."
    )


class PurposeForm(forms.Form):
    code = forms.SlugField(max_length=40, help_text="Used by the API and SDKs; fixed once used.")
    name = forms.CharField(max_length=80)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    legal_basis = forms.ChoiceField(choices=LegalBasis.choices)
    default_gdpr = forms.BooleanField(label="Granted by default under GDPR", required=False)
    default_ccpa = forms.BooleanField(
        label="Granted by default under CCPA", required=False, initial=True
    )
    default_other = forms.BooleanField(label="Granted by default elsewhere", required=False)
    position = forms.IntegerField(min_value=0, max_value=1000, initial=100)
    is_active = forms.BooleanField(label="In use", required=False, initial=True)
