"""Template helpers of the page shell."""

import json

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

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
    """Render a Tabler icon from the vendored sprite."""
    sprite = static("vendor/tabler-icons/tabler-sprite.svg")
    return format_html(
        '<svg class="icon {}" aria-hidden="true" focusable="false">'
        '<use href="{}#tabler-{}"></use></svg>',
        extra_class,
        sprite,
        name,
    )


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
def as_control(bound_field):
    """Render a form field's widget with the design system's classes (and its error state)."""
    widget = bound_field.field.widget
    input_type = getattr(widget, "input_type", "")
    if input_type == "checkbox":
        css = "form-check-input"
    elif input_type == "select" or widget.__class__.__name__.endswith("Select"):
        css = "form-select"
    else:
        css = "form-control"
    if bound_field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return bound_field.as_widget(attrs={"class": f"{existing} {css}".strip()})
