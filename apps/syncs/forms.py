from django import forms

from apps.destinations.models import Destination
from apps.identity.choices import IdentifierType

from .models import ScheduleKind, SqlModel, SyncMode, SyncObject, Warehouse
from .warehouses import kinds


class WarehouseForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=kinds, label="Kind")
    dsn = forms.CharField(
        required=False,
        label="DSN",
        widget=forms.PasswordInput(
            render_value=False,
            attrs={
                "autocomplete": "off",
                "placeholder": "postgresql://reader:…@warehouse:5432/analytics",
            },
        ),
        help_text="PostgreSQL only. Write-only: stored encrypted and never shown again; leave "
        "empty to keep the one set. Use a role that can only read: a superuser is refused, "
        "and so are options that read files (sslkey, passfile, service …) and socket paths.",
    )
    statement_timeout = forms.IntegerField(
        min_value=1, max_value=3600, initial=30, label="Statement timeout (seconds)"
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ModelForm(forms.Form):
    name = forms.CharField(max_length=120)
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.order_by("name"))
    sql = forms.CharField(
        label="SQL",
        widget=forms.Textarea(attrs={"rows": 10, "class": "font-monospace", "spellcheck": "false"}),
        help_text="One SELECT. It runs read-only with the warehouse's statement timeout. On the "
        "console's database it reads the activation views: activation.events, "
        "activation.profiles, activation.profile_ids, activation.identifiers, "
        "activation.consent.",
    )
    primary_key = forms.CharField(max_length=120, label="Primary-key column")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class SyncForm(forms.Form):
    """A sync's settings; its field mappings are edited on their own page."""

    name = forms.CharField(max_length=120)
    model = forms.ModelChoiceField(queryset=SqlModel.objects.order_by("name"))
    destination = forms.ModelChoiceField(queryset=Destination.objects.order_by("name"))
    object = forms.ChoiceField(choices=SyncObject.choices, label="Destination object")
    mode = forms.ChoiceField(choices=SyncMode.choices)
    subject_column = forms.CharField(
        max_length=120,
        label="Identifier column",
        help_text="The model's column that says who the row is about.",
    )
    subject_type = forms.ChoiceField(choices=IdentifierType.choices, label="Identifier type")
    event_name = forms.CharField(
        max_length=200,
        required=False,
        label="Conversion event name",
        help_text="Conversions only, e.g. Opportunity Created.",
    )
    audience_field = forms.CharField(
        max_length=100,
        required=False,
        label="Audience attribute",
        help_text="Audiences only: set true for members, false for people who left.",
    )
    schedule = forms.ChoiceField(choices=ScheduleKind.choices)
    interval_minutes = forms.IntegerField(
        min_value=5, max_value=10080, required=False, label="Every (minutes)"
    )
    cron = forms.CharField(
        max_length=120,
        required=False,
        label="Cron",
        help_text="minute hour day month weekday, e.g. 0 6 * * 1-5",
    )
    row_threshold = forms.IntegerField(
        min_value=1,
        required=False,
        label="Approval above (rows)",
        help_text="Runs touching more rows of a production destination wait for approval. "
        "Empty: the console's default.",
    )
    failed_share_alert = forms.IntegerField(
        min_value=0, max_value=100, initial=5, label="Alert when failed rows exceed (%)"
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
