"""The navigation and the command palette, filled in by each domain app.

An app registers its pages (``register_page``) and, optionally, a search over its
objects (``register_search``) in its ``AppConfig.ready()``; the sidebar and the
palette grow with the apps installed, and show a user only what they may open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse


@dataclass(frozen=True)
class Page:
    label: str
    url_name: str
    section: str
    icon: str = "point"
    permission: str | None = None
    order: int = 100
    keywords: tuple[str, ...] = ()
    in_sidebar: bool = True

    def url(self) -> str:
        return reverse(self.url_name)


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    kind: str
    subtitle: str = ""


@dataclass
class _Registry:
    pages: list[Page] = field(default_factory=list)
    searches: list[tuple[str, Callable]] = field(default_factory=list)


_registry = _Registry()
SECTION_ORDER = ["Overview", "Stack", "Data", "Activation", "Privacy", "Governance", "Account"]


def register_page(page: Page) -> None:
    """Add a page to the sidebar and the palette (idempotent for the same URL name)."""
    if all(p.url_name != page.url_name for p in _registry.pages):
        _registry.pages.append(page)


def register_search(kind: str, search: Callable) -> None:
    """Add a palette search: ``search(user=..., query=..., limit=...)`` -> SearchResults."""
    if all(k != kind for k, _ in _registry.searches):
        _registry.searches.append((kind, search))


def pages_for(user) -> list[Page]:
    """Return the pages ``user`` may open, in sidebar order."""
    visible = [p for p in _registry.pages if p.permission is None or user.has_perm(p.permission)]
    rank = {name: i for i, name in enumerate(SECTION_ORDER)}
    return sorted(visible, key=lambda p: (rank.get(p.section, len(rank)), p.order, p.label))


def sidebar_for(user) -> list[tuple[str, list[Page]]]:
    """Return ``[(section, pages)]`` for the sidebar."""
    sections: dict[str, list[Page]] = {}
    for page in pages_for(user):
        if page.in_sidebar:
            sections.setdefault(page.section, []).append(page)
    return list(sections.items())


def palette_search(user, query: str, *, limit: int = 8) -> list[SearchResult]:
    """Return the pages and objects whose names match ``query``, pages first."""
    needle = query.strip().lower()
    results = []
    for page in pages_for(user):
        haystack = " ".join((page.label, page.section, *page.keywords)).lower()
        if not needle or all(word in haystack for word in needle.split()):
            results.append(SearchResult(page.label, page.url(), "Page", page.section))
    if len(needle) >= 2:
        for _kind, search in _registry.searches:
            results.extend(search(user=user, query=needle, limit=limit))
    return results[: limit * 4]
