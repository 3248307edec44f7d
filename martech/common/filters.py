"""Filter pieces shared by every list, in the UI and the API alike."""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from .forms import tri_state


class StrictNullBooleanField(forms.NullBooleanField):
    """Accept only ``true``/``false`` (or nothing); anything else is a clear error."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        normalised = str(value).strip().lower()
        if normalised in {"true", "1"}:
            return True
        if normalised in {"false", "0"}:
            return False
        raise ValidationError("Use true or false.", code="invalid")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictNullBooleanField

    def __init__(self, *args, yes: str = "Yes", no: str = "No", **kwargs):
        kwargs.setdefault("widget", tri_state(yes, no))
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC so that any valid offset reaches the database
    as a value it accepts (PostgreSQL refuses offsets beyond ±15:59)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError as exc:
            raise ValidationError("That date-time is out of range.", code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
