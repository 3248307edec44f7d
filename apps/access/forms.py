"""Browser forms of access: roles, trainings, assignments, requests, reviews."""

from django import forms

from apps.accounts.models import User
from martech.common.forms import BoundedDateField, ModelMultipleChoiceField

from .models import Role, Training
from .registry import capability_choices


class RoleForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("full_name"),
        help_text="Approves requests for this role and reviews who holds it.",
    )


class RoleCapabilityForm(forms.Form):
    capability = forms.ChoiceField(choices=())
    min_tenure_days = forms.IntegerField(
        label="Minimum tenure (days)", min_value=0, max_value=36500, initial=0
    )
    trainings = ModelMultipleChoiceField(
        queryset=Training.objects.order_by("name"),
        required=False,
        help_text="Valid completions of all of these are required.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capability"].choices = capability_choices()


class BirthrightRuleForm(forms.Form):
    team = forms.CharField(max_length=100, required=False)
    job_title_contains = forms.CharField(max_length=150, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("team") and not data.get("job_title_contains"):
            raise forms.ValidationError("Give a team, a job title, or both.")
        return data


class TrainingForm(forms.Form):
    name = forms.CharField(max_length=150)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    validity_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        help_text="How long a completion stays valid. Leave empty if it never expires.",
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("full_name"), required=False
    )


class CompletionForm(forms.Form):
    training = forms.ModelChoiceField(queryset=Training.objects.order_by("name"))
    completed_on = BoundedDateField()


class AssignRoleForm(forms.Form):
    role = forms.ModelChoiceField(queryset=Role.objects.order_by("name"))
    ends_on = BoundedDateField(
        label="Until (optional)", required=False, help_text="Leave empty for lasting access."
    )


class AccessRequestForm(forms.Form):
    role = forms.ModelChoiceField(queryset=Role.objects.order_by("name"), required=False)
    capability = forms.ChoiceField(choices=(), required=False)
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    duration_days = forms.IntegerField(
        label="For how many days", min_value=1, max_value=365, initial=30
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capability"].choices = [("", "—"), *capability_choices()]

    def clean(self):
        data = super().clean()
        if bool(data.get("role")) == bool(data.get("capability")):
            raise forms.ValidationError("Choose a role or a single capability (not both).")
        return data


class DecisionForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ReviewCampaignForm(forms.Form):
    name = forms.CharField(max_length=150)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    roles = ModelMultipleChoiceField(queryset=Role.objects.order_by("name"), required=False)
    capabilities = forms.MultipleChoiceField(choices=(), required=False)
    deadline = BoundedDateField()
    unreviewed_policy = forms.ChoiceField(
        label="At the deadline, unreviewed access is",
        choices=[("keep", "kept"), ("revoke", "revoked")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capabilities"].choices = capability_choices()

    def clean(self):
        data = super().clean()
        if not data.get("roles") and not data.get("capabilities"):
            raise forms.ValidationError("Choose at least one role or capability to review.")
        return data
