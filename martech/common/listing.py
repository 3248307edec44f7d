"""Sorting and paging of list pages.

A list view declares which columns can be sorted and by what::

    sortable = {"name": "name", "cost": "annual_cost", "renewal": "renewal_date"}
    default_sort = "name"

``?sort=cost`` sorts ascending, ``?sort=-cost`` descending. The order is applied to the
queryset the selector returns (after its permission checks and filters), empty values last in
either direction, then by primary key in the same direction so that pages never overlap. A key
the view does not declare is ignored: the list keeps the selector's own order, which the
``default_sort`` key names (so the header of that column shows it as the current order).
A value may be a tuple of fields, sorted in turn (``("last_name", "first_name")``); a field
written ``-field`` runs the other way (tenure ascending is the start date descending); an
expression (``Coalesce("last_attempt_at", "created_at")``) sorts like a field.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page
from django.db.models import F, QuerySet

SORT_PARAM = "sort"


@dataclass(frozen=True)
class SortOrder:
    """The order a list is shown in: a declared key and its direction."""

    key: str
    descending: bool = False

    @property
    def param(self) -> str:
        """The ``?sort=`` value that asks for this order."""
        return f"-{self.key}" if self.descending else self.key

    def toggled(self) -> SortOrder:
        return SortOrder(self.key, not self.descending)


def parse_sort(value: str | None, sortable: dict) -> SortOrder | None:
    """Read a ``?sort=`` value; None if it names no declared key."""
    value = (value or "").strip()
    descending = value.startswith("-")
    key = value[1:] if descending else value
    if not key or key not in sortable:
        return None
    return SortOrder(key, descending)


def apply_sort(queryset: QuerySet, order: SortOrder | None, sortable: dict) -> QuerySet:
    """Return ``queryset`` in ``order``, or unchanged if there is no order to apply."""
    if order is None:
        return queryset
    fields = sortable[order.key]
    if not isinstance(fields, tuple | list):
        fields = (fields,)
    expressions = []
    for field in fields:
        if isinstance(field, str):
            descending = order.descending != field.startswith("-")
            column = F(field.removeprefix("-"))
        else:
            descending, column = order.descending, field
        expressions.append(
            column.desc(nulls_last=True) if descending else column.asc(nulls_last=True)
        )
    return queryset.order_by(*expressions, "-pk" if order.descending else "pk")


@dataclass(frozen=True)
class ListSort:
    """What a page needs to sort and to draw its sortable headers: the order asked for (None
    if none we know), the default order, and the declared keys."""

    requested: SortOrder | None
    default: SortOrder | None
    keys: frozenset[str]

    @property
    def current(self) -> SortOrder | None:
        """The order the list is shown in."""
        return self.requested or self.default


def sort_state(value: str | None, sortable: dict, default: str = "") -> ListSort:
    """Read ``?sort=`` against the declared keys and the default order."""
    return ListSort(
        requested=parse_sort(value, sortable),
        default=parse_sort(default, sortable),
        keys=frozenset(sortable),
    )


def page_links(page: Page) -> list[int | None]:
    """The page numbers to offer around ``page``: the ends, two either side, None for a gap."""
    paginator = page.paginator
    return [
        None if number == paginator.ELLIPSIS else number
        for number in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    ]
