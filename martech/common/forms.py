"""Form pieces shared by the apps."""

import datetime as dt

from django import forms
from django.db import connections

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


_INTEGER_KEY_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's multiple model choice, refusing a key beyond the database's integer range.

    SQLite cannot bind an integer past 64 bits, so ``pk__in=[10**30]`` raises OverflowError
    (a 500) where a single-key lookup simply finds nothing. A key out of range names no row,
    so it is the same form error as any other unknown choice, on every database. Every form
    uses this class rather than Django's (tests/common/test_forms.py holds that).
    """

    def _check_values(self, value):
        opts = self.queryset.model._meta
        key_field = opts.get_field(self.to_field_name) if self.to_field_name else opts.pk
        internal_type = key_field.get_internal_type()
        if internal_type in _INTEGER_KEY_TYPES and isinstance(value, (list, tuple)):
            low, high = connections[self.queryset.db].ops.integer_field_range(internal_type)
            for candidate in value:
                try:
                    number = int(str(candidate).strip())
                except ValueError:
                    continue  # Django's own check names a non-number
                if (low is not None and number < low) or (high is not None and number > high):
                    raise forms.ValidationError(
                        self.error_messages["invalid_choice"],
                        code="invalid_choice",
                        params={"value": candidate},
                    )
        return super()._check_values(value)
