from django import forms

from apps.destinations.models import Destination
from apps.identity.choices import IdentifierType
from martech.common.errors import ApplicationError

from .engine.warehouse import credentials_of
from .models import ScheduleKind, SqlModel, SyncMode, SyncObject, Warehouse
from .warehouses import MODULES, engine_for, kinds
from .warehouses.base import CredentialField


class SecretTextarea(forms.Textarea):
    """A textarea for a secret (a private key, a service-account document): what it holds
    is never written back into the page, not even after an error."""

    def format_value(self, value):
        return None


def _secret_widget(field: CredentialField) -> forms.Widget:
    attrs = {"autocomplete": "new-password", "spellcheck": "false"}
    if field.multiline:
        return SecretTextarea(attrs={**attrs, "rows": 5, "class": "font-monospace"})
    return forms.PasswordInput(render_value=False, attrs=attrs)


class WarehouseForm(forms.Form):
    """A warehouse: its kind, and the credential fields of every kind, grouped under the
    kind's heading (a script shows the chosen kind's only). Only the chosen kind's fields
    are read. Secrets are never shown; left blank they keep what is stored."""

    MAIN = ("name", "kind")
    REST = ("statement_timeout", "description")

    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(label="Kind")
    statement_timeout = forms.IntegerField(
        min_value=1, max_value=3600, initial=30, label="Statement timeout (seconds)"
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )

    def __init__(self, *args, warehouse: Warehouse | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds()
        stored = credentials_of(warehouse) if warehouse is not None else {}
        # kind -> [(form field name, credential name)]
        self.credential_fields: dict[str, list[tuple[str, str]]] = {}
        for kind in MODULES:
            mine = warehouse is not None and warehouse.kind == kind
            group = self.credential_fields[kind] = []
            for spec in engine_for(kind).fields:
                is_set = mine and bool(stored.get(spec.name))
                if spec.secret:
                    widget = _secret_widget(spec)
                    initial = None
                    hint = "Stored. Leave blank to keep it." if is_set else spec.help
                else:
                    widget = forms.Textarea(attrs={"rows": 3}) if spec.multiline else None
                    initial = stored.get(spec.name, "") if mine else spec.initial
                    hint = spec.help
                field = forms.CharField(
                    required=False,
                    max_length=20000,
                    strip=not spec.secret,
                    label=spec.label,
                    widget=widget,
                    initial=initial,
                    help_text=hint,
                )
                # a stored secret may be left blank; any other required field is required
                field.schema_required = spec.required and not (spec.secret and is_set)
                name = f"cred_{kind}__{spec.name}"
                self.fields[name] = field
                group.append((name, spec.name))

    def main_fields(self):
        return [self[name] for name in self.MAIN]

    def rest_fields(self):
        return [self[name] for name in self.REST]

    def credential_groups(self):
        """(kind, label, bound fields) for every kind, the chosen one first."""
        chosen = self["kind"].value()
        groups = [
            (kind, engine_for(kind).label, [self[name] for name, _ in fields])
            for kind, fields in self.credential_fields.items()
        ]
        return sorted(groups, key=lambda g: g[0] != chosen)

    def field_for(self, credential: str | None) -> str | None:
        """The form field of the chosen kind's credential (or of ``kind``), for an error."""
        if credential == "kind":
            return "kind"
        for name, spec in self.credential_fields.get(self.cleaned_data.get("kind"), []):
            if spec == credential:
                return name
        return None

    def service_data(self) -> dict:
        """What the services take: the warehouse's fields and the chosen kind's credentials.
        A ``dsn`` posted without the kind's own field is the PostgreSQL shorthand."""
        data = {name: self.cleaned_data[name] for name in (*self.MAIN, *self.REST)}
        credentials = {
            spec: self.cleaned_data.get(name) or ""
            for name, spec in self.credential_fields.get(data["kind"], [])
        }
        if "dsn" in credentials and not credentials["dsn"]:
            credentials["dsn"] = (self.data.get("dsn") or "").strip()
        return {**data, "credentials": credentials}


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
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )


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
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )


class DbtManifestForm(forms.Form):
    """A dbt ``manifest.json`` (dbt writes it to ``target/`` on every run or compile)."""

    manifest = forms.FileField(
        label="manifest.json",
        help_text="dbt's target/manifest.json, up to 20 MB. Only the models' names, relations, "
        "descriptions, owners, columns and key tests are kept.",
    )

    def clean_manifest(self):
        from . import dbt

        upload = self.cleaned_data["manifest"]
        if upload.size > dbt.MAX_MANIFEST_BYTES:
            raise forms.ValidationError("The manifest is larger than 20 MB.")
        try:
            return dbt.load(upload.read())
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
