import json

from django import forms

from apps.tools.models import Tool

from .adapters import CATALOG, adapter_choices
from .choices import Environment, Sends
from .models import adapter_purposes
from .services import plain_http_allowed


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _refuse_targets(*, base_url: str, config: dict) -> None:
    """A form error on the field for a URL the egress policy refuses (the service checks
    again: this only puts the message next to the field)."""
    from martech.common.egress import EgressRefused

    from .services import target_check, target_urls

    for field, url in target_urls(base_url=base_url, config=config):
        try:
            target_check(url, field=field)
        except EgressRefused as exc:
            # The message sits under its field: name only what the field itself does not say.
            reason = exc.message.removeprefix(f"{field}: ")
            if field != "base_url":
                reason = f"“{field.removeprefix('config.')}” in the configuration: {reason}"
            raise forms.ValidationError(reason, code=exc.code) from None


def fixed_note(adapter: str) -> str:
    """Why the adapter's own purposes cannot be unticked, in the form's words."""
    found = CATALOG.get(adapter)
    vendor = found.vendor if found is not None else adapter
    return f"Required: sending to {vendor} is sharing personal data for advertising"


class PurposeChecks(forms.CheckboxSelectMultiple):
    """The purpose checkboxes; those the chosen adapter requires (``fixed``: code -> why)
    are ticked and disabled, their reason beside them. A disabled box is not posted: the
    form adds those purposes back, and the service stores them whatever is posted."""

    fixed: dict[str, str]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        why = self.fixed.get(str(value))
        if why:
            option["selected"] = True
            option["attrs"] = {**option["attrs"], **self.checked_attribute, "disabled": True}
            option["label"] = f"{label} ({why})"
        return option


# Words for configuration properties whose name alone reads badly.
LABELS = {
    "url": "Endpoint URL",
    "deletion_url": "Erasure endpoint URL",
    "instance_url": "Instance URL",
    "api_version": "API version",
    "event_name_prefix": "Custom event prefix",
}


def _label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    words = [{"id": "ID", "url": "URL", "api": "API"}.get(w, w) for w in name.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _is_url(name: str, spec: dict) -> bool:
    return spec.get("format") == "uri" or name.endswith("url")


def schema_field(name: str, spec: dict) -> forms.Field | None:
    """The form field for one property of an adapter's configuration schema, or None when
    it is not a plain value (an object, a list: the JSON configuration takes those)."""
    common = {"required": False, "label": _label(name), "help_text": spec.get("description", "")}
    kind = spec.get("type")
    if "enum" in spec:
        labels = spec.get("x-labels", {})
        choices = [("", "—"), *((v, labels.get(v, v)) for v in spec["enum"])]
        field = forms.ChoiceField(choices=choices, **common)
    elif kind == "string" and _is_url(name, spec):
        field = forms.URLField(assume_scheme="https", max_length=2000, **common)
        field.widget.attrs["placeholder"] = "https://…"
    elif kind == "string":
        field = forms.CharField(max_length=2000, **common)
    elif kind == "integer":
        field = forms.IntegerField(
            min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common
        )
    elif kind == "number":
        field = forms.FloatField(
            min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common
        )
    elif kind == "boolean":
        field = forms.BooleanField(**common)
    else:
        return None
    if "default" in spec and kind != "boolean" and "enum" not in spec:
        field.widget.attrs.setdefault("placeholder", str(spec["default"]))
    return field


def _required_words(name: str, spec: dict) -> str:
    label = _label(name)
    if spec.get("type") == "string" and _is_url(name, spec):
        return f"Enter the {label[0].lower() + label[1:]} (https://…)."
    return f"Enter the {label[0].lower() + label[1:]}."


def _schema_words(error, name: str, spec: dict) -> str:
    """A JSON Schema error about property ``name`` as a sentence for its field."""
    label = _label(name)
    words = {
        "required": lambda: _required_words(name, spec),
        "pattern": lambda: (
            f"This is not a valid {label[0].lower() + label[1:]}"
            + (f": {spec['description'].rstrip('.')}." if spec.get("description") else ".")
        ),
        "enum": lambda: "Choose one of the listed values.",
        "minimum": lambda: f"Enter a number of at least {spec.get('minimum')}.",
        "maximum": lambda: f"Enter a number of at most {spec.get('maximum')}.",
        "minLength": lambda: f"Enter at least {spec.get('minLength')} character(s).",
        "type": lambda: (
            f"Enter a {'whole number' if spec.get('type') == 'integer' else spec.get('type')}."
        ),
    }
    make = words.get(error.validator)
    return make() if make else f"{label}: {error.message}."


class DestinationForm(forms.Form):
    name = forms.CharField(max_length=120)
    adapter = forms.ChoiceField(choices=[], label="Vendor API")
    tool = forms.ModelChoiceField(
        queryset=Tool.objects.order_by("name"),
        label="Registry tool",
        help_text="The tool in the registry this destination feeds.",
    )
    environment = forms.ChoiceField(
        choices=Environment.choices,
        help_text="Production destinations reach real customer records: enabling, changing "
        "or replaying to one needs destinations.send_production.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    sends = forms.ChoiceField(choices=Sends.choices)
    purposes = forms.MultipleChoiceField(
        choices=[],
        required=False,
        widget=PurposeChecks,
        help_text="An event goes here only if its consent snapshot grants every one. Sending "
        "to an ad network (Meta Conversions API, Google Ads) is sharing personal data: it "
        "always requires Sale or sharing of personal data.",
    )
    event_names = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Order Completed"}),
        required=False,
        label="Events",
        help_text="Track events this destination takes, one per line; empty: every event.",
    )
    mappings = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "traits.first_name -> firstname"}),
        required=False,
        label="Field mappings",
        help_text="One per line: a path in the event -> the vendor's field.",
    )
    config = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
        required=False,
        label="Configuration (JSON)",
        help_text="Settings the fields above do not offer, as a JSON object; a field filled "
        "above wins over the same key here. Checked against the vendor API's settings.",
    )
    credentials = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 2, "autocomplete": "off", "placeholder": "access_token=…"}
        ),
        required=False,
        label="Credentials (name=value lines)",
        help_text="One per line, name=value; a password field filled above wins. Write-only: "
        "stored encrypted and never shown again; leave empty to keep the ones set, name= to "
        "clear one.",
    )
    base_url = forms.URLField(
        required=False,
        label="API origin",
        assume_scheme="https",
        help_text="Only when the vendor's API lives elsewhere (a regional instance, a proxy).",
    )
    is_enabled = forms.BooleanField(required=False, label="Enabled: route events here")

    # Fields of the page's main part; the vendor settings follow, then the advanced ones.
    MAIN = (
        "name",
        "adapter",
        "tool",
        "environment",
        "description",
        "sends",
        "purposes",
        "event_names",
        "mappings",
    )
    ADVANCED = ("config", "credentials", "base_url")

    def __init__(self, *args, destination=None, **kwargs):
        from apps.consent.models import Purpose

        super().__init__(*args, **kwargs)
        self.destination = destination
        # adapter key -> [(form field name, config property or credential name, spec)]
        self.settings_fields: dict[str, list[tuple[str, str, dict | None]]] = {}
        for adapter in CATALOG.values():
            group = self.settings_fields[adapter.key] = []
            for prop, spec in adapter.config_schema.get("properties", {}).items():
                field = schema_field(prop, spec)
                if field is None:
                    continue
                field.schema_required = prop in adapter.config_schema.get("required", ())
                self.fields[f"cfg_{adapter.key}__{prop}"] = field
                group.append((f"cfg_{adapter.key}__{prop}", prop, spec))
            mine = destination is not None and destination.adapter == adapter.key
            is_set = set(destination.credentials_set) if mine else set()
            for name in adapter.credential_fields:
                field = forms.CharField(
                    required=False,
                    max_length=4000,
                    label=_label(name),
                    widget=forms.PasswordInput(
                        render_value=False, attrs={"autocomplete": "new-password"}
                    ),
                    help_text="Set: leave empty to keep it."
                    if name in is_set
                    else "Write-only: stored encrypted, never shown again.",
                )
                field.schema_required = name not in is_set
                self.fields[f"cred_{adapter.key}__{name}"] = field
                group.append((f"cred_{adapter.key}__{name}", name, None))
        self.fields["adapter"].choices = adapter_choices()
        self.fields["purposes"].choices = list(
            Purpose.objects.filter(is_active=True).order_by("position").values_list("code", "name")
        )
        adapter = self.data.get("adapter") if self.is_bound else self.initial.get("adapter")
        fixed = adapter_purposes(adapter or "")
        self.fields["purposes"].widget.fixed = dict.fromkeys(fixed, fixed_note(adapter or ""))

    @staticmethod
    def settings_fields_of(adapter_key: str) -> list[tuple[str, str, dict | None]]:
        """(form field name, config property or credential name, schema or None for a
        credential) of the fields the form offers for one vendor API."""
        adapter = CATALOG.get(adapter_key)
        if adapter is None:
            return []
        props = adapter.config_schema.get("properties", {})
        return [
            *(
                (f"cfg_{adapter.key}__{p}", p, spec)
                for p, spec in props.items()
                if schema_field(p, spec) is not None
            ),
            *((f"cred_{adapter.key}__{name}", name, None) for name in adapter.credential_fields),
        ]

    def main_fields(self):
        return [self[name] for name in self.MAIN]

    def enabled_fields(self):
        return [self["is_enabled"]]

    def advanced_fields(self):
        return [self[name] for name in self.ADVANCED]

    def settings_groups(self):
        """(adapter, bound fields) for every vendor API, the chosen one first."""
        chosen = self["adapter"].value()
        groups = [
            (CATALOG[key], [self[name] for name, _, _ in fields])
            for key, fields in self.settings_fields.items()
        ]
        return sorted(groups, key=lambda g: g[0].key != chosen)

    def advanced_open(self) -> bool:
        """Open the advanced part when it holds an error or a value the fields do not show."""
        if any(self[name].errors for name in self.ADVANCED):
            return True
        config = (self["config"].value() or "").strip()
        return bool(
            config not in ("", "{}") or self["credentials"].value() or self["base_url"].value()
        )

    def service_data(self) -> dict:
        """What the service takes: the main and advanced fields, config and credentials
        merged from the chosen vendor's fields."""
        return {
            name: self.cleaned_data[name] for name in (*self.MAIN, *self.ADVANCED, "is_enabled")
        }

    def clean(self):
        data = super().clean()
        # The adapter's own purposes are disabled boxes, which a browser does not post.
        fixed = adapter_purposes(data.get("adapter") or "")
        if fixed and "purposes" in data:
            data["purposes"] = sorted({*data["purposes"], *fixed})
        adapter = CATALOG.get(data.get("adapter") or "")
        if adapter is not None and "config" in data and "credentials" in data:
            self._merge_settings(adapter, data)
        return data

    def _merge_settings(self, adapter, data) -> None:
        """Read the chosen vendor's fields (the other vendors' are ignored) into ``config``
        and ``credentials``, and put each problem under the field it concerns."""
        from jsonschema import Draft202012Validator

        config, credentials = dict(data["config"]), dict(data["credentials"])
        fields = {}  # config property -> form field name
        for name, key, spec in self.settings_fields[adapter.key]:
            value = data.get(name)
            if spec is None:
                if value:
                    credentials[key] = value
                continue
            fields[key] = name
            if value in (None, "") or value is False:
                continue
            url = spec.get("type") == "string" and _is_url(key, spec)
            if url and not self._url_ok(name, value):
                continue
            config[key] = value
        problems = Draft202012Validator(adapter.config_schema).iter_errors(config)
        for error in sorted(problems, key=lambda e: list(e.path)):
            if error.validator == "required":
                prop = next(
                    (p for p in adapter.config_schema.get("required", ()) if p not in config), ""
                )
            else:
                prop = str(error.path[0]) if error.path else ""
            spec = adapter.config_schema.get("properties", {}).get(prop, {})
            if prop in fields:  # its own field; when that already failed, it said why
                if fields[prop] not in self.errors:
                    self.add_error(fields[prop], _schema_words(error, prop, spec))
            elif "config" not in self.errors:
                where = f"“{prop}” in the configuration: " if prop else ""
                self.add_error("config", f"{where}{error.message}.")
        for key, url in config.items():
            # A URL from the JSON configuration: the same rule, told under that field.
            if (
                (key not in fields or not data.get(fields[key]))
                and isinstance(url, str)
                and url.lower().startswith("http://")
                and key.endswith("url")
                and not plain_http_allowed(url)
                and "config" not in self.errors
            ):
                self.add_error(
                    "config",
                    f"“{key}” in the configuration: use an https:// "
                    "address; the endpoint receives personal data.",
                )
        if not self.errors:
            data["config"], data["credentials"] = config, credentials

    def _url_ok(self, name: str, value: str) -> bool:
        if value.lower().startswith("http://") and not plain_http_allowed(value):
            self.add_error(
                name,
                "Enter an https:// address: the endpoint receives personal "
                "data, which travels encrypted only.",
            )
            return False
        try:
            _refuse_targets(base_url="", config={"url": value})
        except forms.ValidationError as exc:
            self.add_error(name, exc.messages[0].removeprefix("“url” in the configuration: "))
            return False
        return True

    def full_clean(self):
        super().full_clean()
        if self.is_bound and self._errors:
            # A secret is never sent back to the page: say so on each one that was typed.
            for name, field in self.fields.items():
                if name.startswith("cred_") and (self.data.get(name) or "").strip():
                    field.help_text = self[name].help_text = (
                        "Not kept after an error: enter it again."
                    )

    def clean_event_names(self):
        return _lines(self.cleaned_data["event_names"])

    def clean_mappings(self):
        out = []
        for line in _lines(self.cleaned_data["mappings"]):
            source, arrow, target = line.partition("->")
            if not arrow or not source.strip() or not target.strip():
                raise forms.ValidationError(f"{line!r}: write it as path -> field.")
            out.append({"from": source.strip(), "to": target.strip()})
        return out

    def clean_config(self):
        raw = self.cleaned_data["config"].strip() or "{}"
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("The configuration is a JSON object.")
        _refuse_targets(base_url="", config=value)
        return value

    def clean_base_url(self):
        value = self.cleaned_data["base_url"]
        _refuse_targets(base_url=value, config={})
        return value

    def clean_credentials(self):
        out = {}
        for line in _lines(self.cleaned_data["credentials"]):
            name, equals, value = line.partition("=")
            if not equals or not name.strip():
                raise forms.ValidationError("Write each credential as name=value.")
            out[name.strip()] = value.strip()
        return out


class ReplayForm(forms.Form):
    ids = forms.CharField(required=False)
    everything = forms.BooleanField(required=False)
    destination = forms.IntegerField(required=False)
