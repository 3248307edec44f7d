import json

from django import forms

from .choices import DataCategory, VersionStatus
from .engine.validate import MAX_DEPTH
from .models import EventSchema


class SchemaForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="As sources send it, e.g. Order Completed.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    owner = forms.CharField(max_length=120, required=False, help_text="Team or person.")


class DraftForm(forms.Form):
    json_schema = forms.CharField(
        label="JSON Schema of the properties (draft 2020-12)",
        widget=forms.Textarea(attrs={"rows": 18, "class": "font-monospace", "spellcheck": "false"}),
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


class PropertyForm(forms.Form):
    name = forms.CharField(widget=forms.HiddenInput)
    description = forms.CharField(required=False, max_length=2000)
    purpose = forms.CharField(required=False, max_length=200)
    data_category = forms.ChoiceField(choices=DataCategory.choices)
    personal = forms.BooleanField(required=False)
    owner = forms.CharField(required=False, max_length=120)


PropertyFormSet = forms.formset_factory(PropertyForm, extra=0, max_num=500, validate_max=True)


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
