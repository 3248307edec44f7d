import json

from django import forms
from django.apps import apps

from .choices import DataCategory, VersionStatus
from .engine import properties
from .engine.validate import MAX_DEPTH
from .models import EventSchema
from .services import PROPERTY_RE


class SchemaForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="As sources send it, e.g. Order Completed.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    owner = forms.CharField(max_length=120, required=False, help_text="Team or person.")


class DraftForm(forms.Form):
    """The draft as raw JSON Schema, with the registry's ``x-`` annotations."""

    json_schema = forms.CharField(
        label="JSON Schema of the properties (draft 2020-12)",
        widget=forms.Textarea(attrs={"rows": 18, "class": "font-monospace", "spellcheck": "false"}),
        help_text="Each property's purpose, data category, personal flag and owner are the "
        "x-purpose, x-data-category, x-personal and x-owner annotations; a property without "
        "them keeps what it has.",
    )
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Why this version."
    )

    def clean_json_schema(self):
        try:
            return json.loads(self.cleaned_data["json_schema"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
            ) from None
        except RecursionError:  # nested far past what a schema may (see check_json_schema)
            raise forms.ValidationError(
                f"The schema nests too deep: at most {MAX_DEPTH} levels of objects and arrays."
            ) from None


class NotesForm(forms.Form):
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Why this version."
    )


def purpose_suggestions() -> list[str]:
    """The consent purposes' names, offered as a property's purpose (any text is allowed:
    a business need such as order fulfilment is a purpose too). Consent sits beside the
    registry, so its model is looked up by label."""
    purposes = apps.get_model("consent", "Purpose").objects.filter(is_active=True)
    return list(purposes.order_by("position", "code").values_list("name", flat=True))


class PropertyForm(forms.Form):
    """One property: its shape in the JSON Schema and what it is for."""

    original = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(max_length=200, required=True)
    type = forms.ChoiceField(
        choices=[(t, t) for t in properties.TYPES] + [("", "any")], required=False
    )
    required = forms.BooleanField(required=False)
    description = forms.CharField(required=False, max_length=2000)
    purpose = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "purpose-names"}),
        help_text="A consent purpose, or the business need that justifies collecting it.",
    )
    data_category = forms.ChoiceField(
        choices=DataCategory.choices,
        initial=DataCategory.BEHAVIOURAL,
        required=False,
        label="Category",
    )
    personal = forms.BooleanField(required=False, label="Personal data")
    owner = forms.CharField(required=False, max_length=120)
    enum = forms.CharField(
        required=False,
        label="Allowed values",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 1}),
        help_text="One a line, or separated by commas.",
    )
    format = forms.ChoiceField(
        choices=[("", "none"), *((f, f) for f in properties.FORMATS)], required=False
    )

    def __init__(self, *args, base: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].initial = "string"
        self.base_properties = (base or {}).get("properties") or {}
        original = self["original"].value() or ""
        node = self.base_properties.get(original) if original else None
        # Keywords the rows cannot show keep the property's type, values and format as written.
        self.locked = properties.locked_keys(node) if original in self.base_properties else []

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not PROPERTY_RE.match(name):
            raise forms.ValidationError(
                f"{name!r} is not a valid property name: start with a letter, _ or $, then use "
                "letters, digits and _ $ . - (at most 200 characters)."
            )
        return name

    def clean_data_category(self):
        return self.cleaned_data["data_category"] or DataCategory.BEHAVIOURAL

    def clean(self):
        data = super().clean()
        if self.locked:
            data["enum"] = None
            return data
        kind = data.get("type", "")
        try:
            data["enum"] = properties.parse_enum(data.get("enum", ""), kind)
        except ValueError as exc:
            self.add_error("enum", str(exc))
        if data.get("format") and kind != "string":
            self.add_error(
                "format", f"A format applies to strings; this property is {kind or 'any type'}."
            )
        return data


class BasePropertyFormSet(forms.BaseFormSet):
    def clean(self):
        seen: dict[str, int] = {}
        for index, form in enumerate(self.forms):
            if self.can_delete and self._should_delete_form(form):
                continue
            name = (form.cleaned_data or {}).get("name")
            if not name:
                continue
            if name in seen:
                form.add_error(
                    "name", f"Another property (row {seen[name] + 1}) is also named {name!r}."
                )
            else:
                seen[name] = index

    def rows(self) -> list[dict]:
        """The kept rows' cleaned data, in order (valid formsets only)."""
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data
            and form.cleaned_data.get("name")
            and not (self.can_delete and self._should_delete_form(form))
        ]


PropertyFormSet = forms.formset_factory(
    PropertyForm,
    formset=BasePropertyFormSet,
    extra=0,
    can_delete=True,
    max_num=500,
    validate_max=True,
)
PropertyFormSetWithBlank = forms.formset_factory(
    PropertyForm,
    formset=BasePropertyFormSet,
    extra=1,
    can_delete=True,
    max_num=500,
    validate_max=True,
)


class PlanForm(forms.Form):
    """Name, description and one version (or none) per event schema."""

    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        chosen = {v.schema_id: v.pk for v in plan.versions.all()} if plan else {}
        self.event_fields = []
        for schema in EventSchema.objects.prefetch_related("versions").order_by("name"):
            options = [
                (
                    v.pk,
                    f"{v.number}{' (deprecated)' if v.status == VersionStatus.DEPRECATED else ''}",
                )
                for v in schema.versions.all()
                if v.model is not None
            ]
            if not options:
                continue
            key = f"event_{schema.pk}"
            self.fields[key] = forms.TypedChoiceField(
                label=schema.name,
                choices=[("", "Not in this plan"), *options],
                coerce=int,
                required=False,
                empty_value=None,
                initial=chosen.get(schema.pk),
            )
            self.event_fields.append(key)

    def chosen_versions(self) -> list[int]:
        return [self.cleaned_data[k] for k in self.event_fields if self.cleaned_data.get(k)]


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A zip exported from a tracking plan.")
    name = forms.CharField(
        required=False, max_length=120, help_text="Leave blank to use the name in plan.json."
    )
