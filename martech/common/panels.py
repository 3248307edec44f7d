"""Panels one app adds to another app's page without the page's app importing it.

For example the consent app adds the person's consent to the identity app's profile page:
``register_panel("profile", render)`` where ``render(request=..., **context)`` returns HTML
(or "" to show nothing); the page calls ``render_panels("profile", request=..., ...)``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.safestring import SafeString, mark_safe

_panels: dict[str, list[Callable]] = {}


def register_panel(slot: str, render: Callable) -> None:
    """Add a panel to ``slot`` (idempotent for the same function)."""
    entries = _panels.setdefault(slot, [])
    if render not in entries:
        entries.append(render)


def render_panels(slot: str, **context) -> list[SafeString]:
    # Panels are rendered by templates, which escape what they show.
    return [mark_safe(html) for render in _panels.get(slot, []) if (html := render(**context))]  # noqa: S308
