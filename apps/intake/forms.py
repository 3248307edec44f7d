"""Browser forms of the intake, one per stage and decision."""

from django import forms

from apps.accounts.models import User
from apps.tools.choices import ToolCapability
from martech.common.currencies import currency_problem, normalise_currency
from martech.common.forms import BoundedDateField

from .choices import Approach, Part


class CurrencyField(forms.CharField):
    """An ISO 4217 currency code, given in any case, kept in capitals."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "A three-letter code, e.g. USD, EUR or GBP.")
        super().__init__(max_length=3, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if problem := currency_problem(value):
            raise forms.ValidationError(problem, code="currency")
        return normalise_currency(value)


class ProblemForm(forms.Form):
    title = forms.CharField(
        max_length=160, help_text="A short name, e.g. “Onboarding emails are sent by hand”."
    )
    team = forms.CharField(max_length=100, required=False)
    problem_statement = forms.CharField(
        label="The discrete issue",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="One problem, not a solution: what goes wrong today?",
    )
    who_suffers = forms.CharField(
        label="Who suffers it", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    cost_hours_per_month = forms.DecimalField(
        label="Hours lost a month",
        min_value=0,
        max_digits=8,
        decimal_places=1,
        required=False,
        error_messages={"min_value": "Hours lost can't be negative."},
    )
    cost_money_per_month = forms.DecimalField(
        label="Money lost a month",
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        error_messages={"min_value": "Money lost can't be negative."},
    )
    cost_currency = CurrencyField(label="Currency", initial="USD")
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Tickets, numbers, quotes: what shows the problem is real?",
    )


class StakeholderForm(forms.Form):
    person = forms.ModelChoiceField(queryset=User.objects.none())
    part = forms.ChoiceField(choices=Part.choices)
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = User.objects.filter(is_active=True).order_by("full_name")


class SystemForm(forms.Form):
    approach = forms.ChoiceField(choices=Approach.choices, widget=forms.RadioSelect)
    proposed_capabilities = forms.MultipleChoiceField(
        label="Capabilities it needs",
        choices=ToolCapability.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="The registry shows which tools you already pay for with each.",
    )
    system_design = forms.CharField(
        label="Proposed design", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


class CandidateForm(forms.Form):
    name = forms.CharField(max_length=120)
    vendor = forms.CharField(max_length=120, required=False, help_text="Empty for a build.")
    estimated_annual_cost = forms.DecimalField(
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        error_messages={"min_value": "The cost can't be negative."},
    )
    currency = CurrencyField(initial="USD", help_text="")
    notes = forms.CharField(max_length=2000, required=False)


class CommentForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class DeferForm(forms.Form):
    revisit_on = BoundedDateField(label="Revisit on")
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=2000, required=False)


class TaskForm(forms.Form):
    done = forms.TypedChoiceField(
        choices=(("true", "Done"), ("false", "Not done")), coerce=lambda v: v == "true"
    )
