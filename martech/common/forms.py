"""Form pieces shared by the apps."""

from django import forms

ANY_YES_NO = [("", "Any"), ("true", "Yes"), ("false", "No")]


def tri_state(yes: str = "Yes", no: str = "No") -> forms.Select:
    """Return a select for an optional boolean filter: any, yes or no."""
    return forms.Select(choices=[("", "Any"), ("true", yes), ("false", no)])
