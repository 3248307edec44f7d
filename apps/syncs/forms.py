from django import forms

from .models import Warehouse, WarehouseKind


class WarehouseForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=WarehouseKind.choices, label="Kind")
    dsn = forms.CharField(
        required=False, label="DSN",
        widget=forms.PasswordInput(render_value=False, attrs={
            "autocomplete": "off", "placeholder": "postgresql://reader:…@warehouse:5432/analytics"}),
        help_text="PostgreSQL only. Write-only: stored encrypted and never shown again; leave "
        "empty to keep the one set. Use a role that can only read.",
    )  # fmt: skip
    statement_timeout = forms.IntegerField(
        min_value=1, max_value=3600, initial=30, label="Statement timeout (seconds)"
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ModelForm(forms.Form):
    name = forms.CharField(max_length=120)
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.order_by("name"))
    sql = forms.CharField(
        label="SQL", widget=forms.Textarea(attrs={"rows": 10, "class": "font-monospace",
                                                  "spellcheck": "false"}),
        help_text="One SELECT. It runs read-only with the warehouse's statement timeout.",
    )  # fmt: skip
    primary_key = forms.CharField(max_length=120, label="Primary-key column")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
