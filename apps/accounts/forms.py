"""Browser forms of the accounts app."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from martech.common.forms import BoundedDateField

from . import sso
from .models import User


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account.",
    }

    def clean(self):
        # SSO required: refused before the password is looked at (nor counted as a failure),
        # unless the account is one of the break-glass accounts.
        email = self.cleaned_data.get("username")
        if sso.sso_required() and email and not sso.is_break_glass(email):
            raise forms.ValidationError(sso.password_refusal(), code="sso_required")
        return super().clean()


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


class SecondFactorCodeForm(forms.Form):
    """A code from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=64,
        help_text="The 6-digit code your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


class AuthenticatorConfirmForm(forms.Form):
    """The first code a newly added authenticator app shows."""

    code = forms.CharField(
        label="Code from the app",
        max_length=16,
        help_text="The 6-digit code the app shows for MarTech Console now.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
