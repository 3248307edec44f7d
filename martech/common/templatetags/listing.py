"""Template helpers of list pages: sortable column headers and page numbers.

A header links to the same list, filters kept, page reset, ordered by its column; a second
click reverses the order. The link swaps only the table (``#list-results``) with htmx and puts
the order in the address, so a reload, a bookmark or the browser's Back shows the same list.
"""

from django import template
from django.utils.html import format_html

from martech.common.icons import icon_svg
from martech.common.listing import SORT_PARAM, SortOrder, page_links

register = template.Library()

_ARIA = {False: "ascending", True: "descending"}


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str, css: str = "") -> str:
    """A ``<th>`` for a column; sortable (a link, ``aria-sort``, an arrow) if the view declares
    ``key``, plain otherwise."""
    sort = context.get("list_sort")
    if sort is None or key not in sort.keys:
        return format_html('<th class="{}">{}</th>', css, label)
    current = sort.current
    active = current is not None and current.key == key
    target = current.toggled() if active else SortOrder(key)
    query = context["request"].GET.copy()
    query.pop("page", None)
    query[SORT_PARAM] = target.param
    if active:
        arrow = icon_svg("arrow-down" if current.descending else "arrow-up", "ms-1")
        aria = _ARIA[current.descending]
        hint = "reverse the order"
    else:
        arrow = icon_svg("arrows-sort", "ms-1 text-secondary")
        aria = "none"
        hint = "sort"
    return format_html(
        '<th class="{}" aria-sort="{}"><a href="?{}" class="text-reset text-nowrap"'
        ' title="{} by {}" hx-boost="true" hx-target="#list-results" hx-select="#list-results"'
        ' hx-swap="outerHTML">{}{}</a></th>',
        css,
        aria,
        query.urlencode(),
        hint.capitalize(),
        label.lower(),
        label,
        arrow,
    )


@register.simple_tag
def page_numbers(page) -> list[int | None]:
    """The page numbers to link to around ``page`` (None where numbers are left out)."""
    return page_links(page)


@register.simple_tag(takes_context=True)
def sort_field(context) -> str:
    """A hidden ``sort`` input joined to the filter form (``form="list-filter"``), so that
    changing a filter keeps the order the list was sorted in."""
    sort = context.get("list_sort")
    if sort is None or sort.requested is None:
        return ""
    return format_html(
        '<input type="hidden" name="{}" value="{}" form="list-filter">',
        SORT_PARAM,
        sort.requested.param,
    )
