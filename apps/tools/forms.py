"""Browser forms of the tool registry."""

from django import forms

from apps.accounts.models import User
from martech.common.forms import BoundedDateField

from .choices import DataCategory, ToolCapability, ToolStatus
from .rules import tool_problems


class ToolForm(forms.Form):
    """A tool's facts. Every rule is checked in one submit: those of each field, then the
    registry's rules (dates, seats, currency, a name already taken) on the fields that passed.
    """

    name = forms.CharField(max_length=120)
    vendor = forms.CharField(max_length=120)
    category = forms.CharField(max_length=80, help_text="How the vendor sells it, e.g. “CDP”.")
    capabilities = forms.MultipleChoiceField(
        choices=ToolCapability.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    status = forms.ChoiceField(choices=ToolStatus.choices, initial=ToolStatus.ACTIVE)
    business_owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    technical_owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    team = forms.CharField(max_length=100, required=False)
    annual_cost = forms.DecimalField(
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=0,
        error_messages={"min_value": "Annual cost can't be negative."},
    )
    currency = forms.CharField(
        max_length=3, initial="USD", help_text="A three-letter code, e.g. USD, EUR or GBP."
    )
    seats_bought = forms.IntegerField(
        min_value=0,
        max_value=10_000_000,
        required=False,
        error_messages={"min_value": "Seats can't be negative."},
    )
    seats_used = forms.IntegerField(
        label="Seats in use",
        min_value=0,
        max_value=10_000_000,
        required=False,
        error_messages={"min_value": "Seats can't be negative."},
    )
    contract_start = BoundedDateField(required=False)
    renewal_date = BoundedDateField(required=False)
    notice_period_days = forms.IntegerField(
        min_value=0,
        max_value=730,
        initial=30,
        help_text="Days before the renewal by which the vendor must be told you are leaving.",
        error_messages={
            "min_value": "The notice period can't be negative.",
            "max_value": "Give a notice period of two years (730 days) or less.",
        },
    )
    auto_renew = forms.BooleanField(required=False, initial=True)
    data_categories = forms.MultipleChoiceField(
        choices=DataCategory.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    dpa_on_file = forms.BooleanField(label="DPA on file", required=False)
    has_deletion_api = forms.BooleanField(label="Vendor offers a deletion API", required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, tool_pk: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tool_pk = tool_pk
        people = User.objects.filter(is_active=True).order_by("full_name")
        self.fields["business_owner"].queryset = people
        self.fields["technical_owner"].queryset = people

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()

    def clean(self):
        data = super().clean()
        for problem in tool_problems(data, pk=self.tool_pk):
            if problem.field not in self.errors:
                field = problem.field if problem.field in self.fields else None
                self.add_error(field, problem.message)
        return data


class AdvisorForm(forms.Form):
    monthly_active_users = forms.IntegerField(min_value=0, max_value=10_000_000_000, initial=80_000)
    events_per_month = forms.IntegerField(
        min_value=0, max_value=10**13, initial=5_000_000, help_text="Tracked events a month."
    )
    destinations = forms.IntegerField(
        min_value=0, max_value=500, initial=4, help_text="Tools that receive customer data."
    )
    engineers = forms.IntegerField(
        label="Engineers for data infrastructure",
        min_value=0,
        max_value=10_000,
        initial=1,
        help_text="People who can keep a warehouse, dbt and pipelines healthy.",
    )
    real_time = forms.BooleanField(label="Activation must happen within seconds", required=False)
    regulated_multi_region = forms.BooleanField(
        label="Data-residency rules across several regions", required=False
    )
