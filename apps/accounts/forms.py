"""Browser forms of the accounts app."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from martech.common.forms import BoundedDateField, ModelMultipleChoiceField

from .models import Role, Training, User
from .registry import capability_choices


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account.",
    }


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What the token is for, for example “Looker export” or “CI deploy”.",
    )
    days = forms.IntegerField(
        label="Expires in (days)",
        min_value=1,
        max_value=settings.API_TOKEN_MAX_DAYS,
        initial=settings.API_TOKEN_DEFAULT_DAYS,
    )


# --- Access ------------------------------------------------------------------------------


class PersonForm(forms.Form):
    email = forms.EmailField()
    full_name = forms.CharField(max_length=200)
    team = forms.CharField(max_length=100, required=False)
    job_title = forms.CharField(max_length=150, required=False)
    manager = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    start_date = BoundedDateField()
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Optional: an initial password the person changes after signing in.",
    )

    # What decides a person's access: nobody changes these on their own record.
    SELF_LOCKED = ("team", "job_title", "manager", "start_date")
    SELF_LOCKED_HINT = "Another access administrator changes this on your record."

    def __init__(self, *args, editing: User | None = None, own: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        managers = User.objects.filter(is_active=True).order_by("full_name")
        if editing is not None:
            managers = managers.exclude(pk=editing.pk)
            del self.fields["email"]
            del self.fields["password"]
        self.fields["manager"].queryset = managers
        self.locked = self.SELF_LOCKED if own else ()
        for name in self.locked:
            self.fields[name].disabled = True
            self.fields[name].help_text = self.SELF_LOCKED_HINT

    def clean(self):
        data = super().clean()
        # A locked field keeps its value; one sent anyway is refused on the field, not ignored.
        for name in self.locked:
            field = self.fields[name]
            raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            if raw is None:
                continue
            try:
                sent = field.to_python(raw)
            except forms.ValidationError:
                sent = object()
            if sent != self.get_initial_for_field(field, name):
                label = (field.label or name.replace("_", " ")).lower()
                self.add_error(
                    name,
                    f"You cannot change your own {label}; ask another access administrator.",
                )
        return data

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if password:
            password_validation.validate_password(password)
        return password


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
