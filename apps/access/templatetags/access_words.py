"""Capabilities in words on the pages: a person reads a capability's label, not its code."""

from django import template

from apps.access.registry import capability_label as _label

register = template.Library()


@register.filter
def capability_label(code: str) -> str:
    """``audit.view`` → ``Read the audit log`` (the code itself if no app declares it)."""
    return _label(str(code or ""))
