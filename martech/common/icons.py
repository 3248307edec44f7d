"""Tabler icons, drawn inline: a page carries the icons it shows and nothing else.

The vendored sprite (static/vendor/tabler-icons/tabler-sprite.svg, pinned and hash-checked
in static/vendor/MANIFEST.json) is the source: it is read once per process, at the first
icon, and each symbol's drawing is kept in memory. Browsers never download the sprite.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from pathlib import Path

from django.conf import settings
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

SPRITE = Path(settings.BASE_DIR) / "static" / "vendor" / "tabler-icons" / "tabler-sprite.svg"
_SVG = "{http://www.w3.org/2000/svg}"
_PREFIX = "tabler-"
# The symbol's painting attributes go on an inner group, as they did on the symbol a
# <use> drew: the design system's ``.icon`` rules (size, colour) apply to the outer <svg>.
_PAINT = ("fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin")


class UnknownIconError(ValueError):
    """An icon name that the vendored sprite does not have."""


def _markup(element: ET.Element) -> str:
    """Serialise one drawing element (path, circle, …) and its children as SVG markup."""
    tag = element.tag.removeprefix(_SVG)
    attrs = "".join(f' {name}="{escape(value)}"' for name, value in element.attrib.items())
    children = "".join(_markup(child) for child in element)
    return f"<{tag}{attrs}>{children}</{tag}>" if children else f"<{tag}{attrs}/>"


@functools.cache
def _symbols() -> dict[str, tuple[str, str]]:
    """Read the sprite once: icon name -> (viewBox, inner markup with its painting group)."""
    symbols = {}
    for symbol in ET.parse(SPRITE).getroot().iter(f"{_SVG}symbol"):  # noqa: S314
        name = symbol.get("id", "").removeprefix(_PREFIX)
        paint = "".join(
            f' {attr}="{escape(symbol.get(attr))}"' for attr in _PAINT if symbol.get(attr)
        )
        drawing = "".join(_markup(child) for child in symbol)
        symbols[name] = (symbol.get("viewBox", "0 0 24 24"), f"<g{paint}>{drawing}</g>")
    return symbols


def icon_names() -> frozenset[str]:
    """Return the name of every icon the vendored sprite has."""
    return frozenset(_symbols())


def icon_svg(name: str, extra_class: str = "") -> SafeString:
    """Return the icon ``name`` as an inline, decorative ``<svg>``.

    Raises ``UnknownIconError`` for a name the sprite does not have: every name is a
    constant in a template or a page registration, and a test checks them all.
    """
    try:
        view_box, inner = _symbols()[name]
    except KeyError:
        raise UnknownIconError(f"No Tabler icon is named {name!r}.") from None
    return format_html(
        '<svg class="{}" viewBox="{}" aria-hidden="true" focusable="false">{}</svg>',
        f"icon {extra_class}".strip(),
        view_box,
        mark_safe(inner),  # noqa: S308 (escaped above, from our own vendored sprite)
    )
