"""The navigation and the command palette, filled in by each domain app.

An app registers its pages (``register_page``) and, optionally, a search over its
objects (``register_search``) and the actions the palette offers (``register_actions``)
in its ``AppConfig.ready()``; the sidebar and the palette grow with the apps installed,
and show a user only what they may open or do.

An action is a link to the page that already does it: a form prefilled by the query
string, or an action's own confirmation (``ActionView`` answers a GET with the question
its POST would ask). The palette never acts by itself, so an action from the palette
passes the same permission checks, confirmation, service and audit as from its page.
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


GO_TO = "Go to"
ACTIONS = "Actions"


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    kind: str
    subtitle: str = ""
    group: str = GO_TO


@dataclass
class _Registry:
    pages: list[Page] = field(default_factory=list)
    searches: list[tuple[str, Callable]] = field(default_factory=list)
    actions: list[tuple[str, Callable]] = field(default_factory=list)
    verbs: set[str] = field(default_factory=set)


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


def register_actions(name: str, actions: Callable, *, verbs: tuple[str, ...] = ()) -> None:
    """Add palette actions: ``actions(user=..., query=..., limit=...)`` -> SearchResults in
    the ``ACTIONS`` group. ``verbs`` are the words that ask for them; a query starting with
    one lists the actions before the pages and objects."""
    if all(n != name for n, _ in _registry.actions):
        _registry.actions.append((name, actions))
    _registry.verbs.update(verbs)


def verb_rest(query: str, verbs: tuple[str, ...]) -> str | None:
    """Return what follows the verb ``query`` starts with, or None if it starts with none.

    A query that is the start of a verb (``"appr"``, at least three letters) counts as that
    verb with nothing after it, so the actions show while the verb is being typed."""
    text = " ".join(query.split())
    needle = text.lower()
    for verb in verbs:
        if needle == verb or needle.startswith(verb + " "):
            return text[len(verb) :].strip()  # as typed: an identifier may be case-sensitive
        if len(needle) >= 3 and verb.startswith(needle):
            return ""
    return None


def words_in(words: list[str], *texts: str) -> bool:
    """Whether every word is found in one of ``texts`` (case-insensitive)."""
    haystack = " ".join(texts).lower()
    return all(word in haystack for word in words)


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
    """Return the pages and objects whose names match ``query`` (pages first) and the
    actions it asks for; the actions come first when the query starts with a verb."""
    needle = query.strip().lower()
    results = []
    for page in pages_for(user):
        haystack = " ".join((page.label, page.section, *page.keywords)).lower()
        if not needle or all(word in haystack for word in needle.split()):
            results.append(SearchResult(page.label, page.url(), "Page", page.section))
    actions = []
    if len(needle) >= 2:
        # As typed: names match case-insensitively, but an identifier may not.
        text = query.strip()
        for _kind, search in _registry.searches:
            results.extend(search(user=user, query=text, limit=limit))
        for _name, offer in _registry.actions:
            actions.extend(offer(user=user, query=text, limit=limit))
    results, actions = results[: limit * 4], actions[: limit * 2]
    if verb_rest(needle, tuple(_registry.verbs)) is not None:
        return actions + results
    return results + actions
