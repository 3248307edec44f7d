from django import forms

from apps.schemas.choices import Enforcement
from apps.schemas.models import TrackingPlan
from martech.common.forms import BoundedDateField

from .choices import Environment, SourceKind
from .services import MAX_OVERLAP_HOURS


class SourceForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=SourceKind.choices)
    environment = forms.ChoiceField(choices=Environment.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    allowed_origins = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://www.acme.example"}),
        required=False,
        help_text="Browser origins allowed to send events, one per line (websites only).",
    )
    plan = forms.ModelChoiceField(
        queryset=TrackingPlan.objects.order_by("name"),
        required=False,
        empty_label="No tracking plan",
        label="Tracking plan",
    )
    enforcement = forms.ChoiceField(
        choices=Enforcement.choices,
        help_text="What happens to an event that breaks the plan.",
    )
    rate_limit = forms.IntegerField(
        min_value=1, max_value=100_000, initial=200, help_text="Requests per second."
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def clean_allowed_origins(self):
        value = self.cleaned_data["allowed_origins"]
        return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


class RotateForm(forms.Form):
    overlap_hours = forms.IntegerField(
        min_value=0,
        max_value=MAX_OVERLAP_HOURS,
        label="Old keys keep working for (hours)",
    )


class AttributionForm(forms.Form):
    start = BoundedDateField(label="From")
    end = BoundedDateField(label="To")
    dimension = forms.ChoiceField(choices=[], label="By")

    def __init__(self, *args, **kwargs):
        from .selectors import DIMENSIONS

        super().__init__(*args, **kwargs)
        self.fields["dimension"].choices = list(DIMENSIONS.items())

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The range ends before it starts.")
        if data.get("start") and data.get("end") and (data["end"] - data["start"]).days > 731:
            raise forms.ValidationError("Choose at most two years.")
        return data
