"""Template helpers of the page shell."""

import json

from django import forms, template
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from martech.common.icons import icon_svg

register = template.Library()

_VERB_COLOURS = {
    "created": "green",
    "updated": "blue",
    "deleted": "red",
    "revoked": "red",
    "purged": "orange",
    "login_failed": "red",
    "logged_in": "azure",
    "logged_out": "secondary",
    "password_changed": "purple",
}


@register.simple_tag
def icon(name: str, extra_class: str = "") -> str:
    """Render a Tabler icon as an inline SVG (see ``martech.common.icons``)."""
    return icon_svg(name, extra_class)


@register.filter
def action_colour(action: str) -> str:
    """Return the badge colour for an audit action by its verb."""
    return _VERB_COLOURS.get(action.rsplit(".", 1)[-1], "secondary")


@register.filter
def pretty_json(value) -> str:
    """Render a JSON value readably for a <pre> block."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@register.filter
def is_choice_group(bound_field) -> bool:
    """Tell whether a field renders as a group of checkboxes or radios (a fieldset, not a label)."""
    # CheckboxSelectMultiple is a RadioSelect.
    return isinstance(bound_field.field.widget, forms.RadioSelect)


@register.filter
def is_single_check(bound_field) -> bool:
    """Tell whether a field is one checkbox, whose label reads beside it."""
    return isinstance(bound_field.field.widget, forms.CheckboxInput)


def _choice_group(bound_field, css: str):
    """Render each option as a design-system check: the input, then its own label."""
    options = []
    for option in bound_field.subwidgets:
        data = option.data
        attrs = {**data["attrs"], "class": f"{data['attrs'].get('class', '')} {css}".strip()}
        attrs["checked"] = bool(data["selected"])
        options.append(
            (
                data["type"],
                data["name"],
                "" if data["value"] is None else data["value"],
                flatatt(attrs),
                attrs.get("id", ""),
                data["label"],
            )
        )
    return format_html(
        '<div class="console-choices" id="{}">{}</div>',
        bound_field.auto_id,
        format_html_join(
            "",
            '<div class="form-check"><input type="{}" name="{}" value="{}"{}>'
            '<label class="form-check-label" for="{}">{}</label></div>',
            options,
        ),
    )


@register.filter
def as_control(bound_field):
    """Render a form field's widget with the design system's classes (and its error state).

    A checkbox or radio group renders as a list of checks, each input with its own label;
    the group's name belongs in a ``<legend>`` (see ``is_choice_group``).
    """
    widget = bound_field.field.widget
    invalid = " is-invalid" if bound_field.errors else ""
    if is_choice_group(bound_field):
        return _choice_group(bound_field, "form-check-input" + invalid)
    input_type = getattr(widget, "input_type", "")
    if input_type == "checkbox":
        css = "form-check-input"
    elif input_type == "select" or widget.__class__.__name__.endswith("Select"):
        css = "form-select"
    else:
        css = "form-control"
    existing = widget.attrs.get("class", "")
    return bound_field.as_widget(attrs={"class": f"{existing} {css}{invalid}".strip()})
