"""Form pieces shared by the apps."""

import datetime as dt

from django import forms

ANY_YES_NO = [("", "Any"), ("true", "Yes"), ("false", "No")]


def tri_state(yes: str = "Yes", no: str = "No") -> forms.Select:
    """Return a select for an optional boolean filter: any, yes or no."""
    return forms.Select(choices=[("", "Any"), ("true", yes), ("false", no)])


class BoundedDateField(forms.DateField):
    """A date between the years 1900 and 2999: what the console's date arithmetic supports."""

    widget = forms.DateInput(attrs={"type": "date", "min": "1900-01-01", "max": "2999-12-31"})

    def validate(self, value):
        super().validate(value)
        if value and not dt.date(1900, 1, 1) <= value <= dt.date(2999, 12, 31):
            raise forms.ValidationError("Use a date between 1900 and 2999.", code="out_of_range")
