import json

from django import forms

from apps.tools.models import Tool

from .adapters import CATALOG, adapter_choices
from .choices import Environment, Sends
from .models import adapter_purposes


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


class DestinationForm(forms.Form):
    name = forms.CharField(max_length=120)
    adapter = forms.ChoiceField(choices=[], label="Vendor API")
    tool = forms.ModelChoiceField(
        queryset=Tool.objects.order_by("name"), label="Registry tool",
        help_text="The tool in the registry this destination feeds.",
    )  # fmt: skip
    environment = forms.ChoiceField(
        choices=Environment.choices,
        help_text="Production destinations reach real customer records: enabling, changing "
        "or replaying to one needs destinations.send_production.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    sends = forms.ChoiceField(choices=Sends.choices)
    purposes = forms.MultipleChoiceField(
        choices=[], required=False, widget=PurposeChecks,
        help_text="An event goes here only if its consent snapshot grants every one. Sending "
        "to an ad network (Meta Conversions API, Google Ads) is sharing personal data: it "
        "always requires Sale or sharing of personal data.",
    )  # fmt: skip
    event_names = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Order Completed"}),
        required=False, label="Events",
        help_text="Track events this destination takes, one per line; empty: every event.",
    )  # fmt: skip
    mappings = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "traits.first_name -> firstname"}),
        required=False, label="Field mappings",
        help_text="One per line: a path in the event -> the vendor's field.",
    )  # fmt: skip
    config = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}), required=False,
        label="Configuration (JSON)", help_text="Checked against the vendor API's settings.",
    )  # fmt: skip
    credentials = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off",
                                     "placeholder": "access_token=…"}),
        required=False, label="Credentials",
        help_text="One per line, name=value. Write-only: stored encrypted and never shown "
        "again; leave empty to keep the ones set, name= to clear one.",
    )  # fmt: skip
    base_url = forms.URLField(
        required=False, label="API origin", assume_scheme="https",
        help_text="Only when the vendor's API lives elsewhere (a regional instance, a proxy).",
    )  # fmt: skip
    is_enabled = forms.BooleanField(required=False, label="Enabled: route events here")

    def __init__(self, *args, **kwargs):
        from apps.consent.models import Purpose

        super().__init__(*args, **kwargs)
        self.fields["adapter"].choices = adapter_choices()
        self.fields["purposes"].choices = list(
            Purpose.objects.filter(is_active=True).order_by("position").values_list("code", "name")
        )
        adapter = self.data.get("adapter") if self.is_bound else self.initial.get("adapter")
        fixed = adapter_purposes(adapter or "")
        self.fields["purposes"].widget.fixed = dict.fromkeys(fixed, fixed_note(adapter or ""))

    def clean(self):
        data = super().clean()
        # The adapter's own purposes are disabled boxes, which a browser does not post.
        fixed = adapter_purposes(data.get("adapter") or "")
        if fixed and "purposes" in data:
            data["purposes"] = sorted({*data["purposes"], *fixed})
        return data

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
