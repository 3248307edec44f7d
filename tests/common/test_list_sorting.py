"""List pages sort by the columns they declare, keep filters and order across pages."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.tools.services import tool_create

pytestmark = pytest.mark.django_db


def _tool(admin, name, **extra):
    return tool_create(actor=admin, name=name, vendor=name, category="x", capabilities=[], **extra)


@pytest.fixture
def tools(admin):
    """Three tools whose names, costs and renewal dates each sort differently."""
    _tool(admin, "Braze", annual_cost=Decimal("96000"), renewal_date=dt.date(2027, 3, 1))
    _tool(admin, "Amplitude", annual_cost=Decimal("40000"), renewal_date=dt.date(2027, 9, 1))
    _tool(admin, "Segment", annual_cost=Decimal("120000"), renewal_date=dt.date(2027, 1, 15))
    _tool(admin, "Zendesk", annual_cost=Decimal("60000"))  # no renewal date: last either way


def _names(response):
    assert response.status_code == 200
    return [tool.name for tool in response.context["object_list"]]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("cost", ["Amplitude", "Zendesk", "Braze", "Segment"]),
        ("-cost", ["Segment", "Braze", "Zendesk", "Amplitude"]),
        ("renewal", ["Segment", "Braze", "Amplitude", "Zendesk"]),
        ("-renewal", ["Amplitude", "Braze", "Segment", "Zendesk"]),
        ("name", ["Amplitude", "Braze", "Segment", "Zendesk"]),
        ("-name", ["Zendesk", "Segment", "Braze", "Amplitude"]),
    ],
)
def test_tools_sort_by_cost_renewal_and_name_both_ways(admin_client, tools, sort, expected):
    assert _names(admin_client.get(reverse("tools:tool_list"), {"sort": sort})) == expected


@pytest.mark.parametrize("sort", ["bogus", "-", "annual_cost", "-business_owner__password"])
def test_tools_with_an_unknown_sort_key_keep_the_default_order(admin_client, tools, sort):
    response = admin_client.get(reverse("tools:tool_list"), {"sort": sort})
    assert _names(response) == ["Amplitude", "Braze", "Segment", "Zendesk"]


def test_tool_headers_link_to_the_reverse_order_and_say_which_is_current(admin_client, tools):
    html = admin_client.get(reverse("tools:tool_list"), {"sort": "cost", "q": "e"}).text
    cost = re.search(r'<th class="text-end" aria-sort="(\w+)"><a href="\?([^"]+)"', html)
    assert cost.group(1) == "ascending"
    assert "sort=-cost" in cost.group(2)
    assert "q=e" in cost.group(2)
    name = re.search(r'<th class="" aria-sort="(\w+)"><a href="\?([^"]+)"', html)
    assert name.group(1) == "none"
    assert "sort=name" in name.group(2)
    # The filter form sends the order along with any change of filter.
    assert '<input type="hidden" name="sort" value="cost" form="list-filter">' in html


def test_tool_pages_keep_the_filters_and_the_order(admin, admin_client):
    for n in range(30):
        _tool(admin, f"Tool {n:02}", annual_cost=Decimal(1000 + n), team="Growth")
    _tool(admin, "Elsewhere", annual_cost=Decimal(5), team="Data")
    url = reverse("tools:tool_list")
    first = admin_client.get(url, {"team": "growth", "sort": "-cost"})
    assert _names(first)[:2] == ["Tool 29", "Tool 28"]
    html = first.text
    assert "<strong>1\u201325</strong> of <strong>30</strong>" in html
    links = set(re.findall(r'class="page-link" href="\?([^"#]+)"', html))
    assert links, "the first page links to the others"
    for query in links:
        assert "team=growth" in query
        assert "sort=-cost" in query
    second = admin_client.get(f"{url}?team=growth&sort=-cost&page=2")
    assert _names(second) == [f"Tool {n:02}" for n in range(4, -1, -1)]
    assert "<strong>26\u201330</strong> of <strong>30</strong>" in second.text


def _list_pages():
    """Every list page: (url name, view class), found from the URL configuration."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from martech.common.views import FilteredListView

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                view = getattr(pattern.callback, "view_class", None)
                if view and issubclass(view, FilteredListView) and not pattern.pattern.converters:
                    yield f"{namespace}{pattern.name}", view

    return sorted(set(walk(get_resolver().url_patterns)), key=lambda page: page[0])


def test_every_list_page_declares_sortable_columns_and_a_known_default():
    pages = _list_pages()
    assert len(pages) >= 10
    for name, view in pages:
        assert view.sortable, f"{name} declares no sortable column"
        if isinstance(view.default_sort, property):  # chosen per request (the erasure list)
            continue
        assert view.default_sort.removeprefix("-") in view.sortable, name


@pytest.mark.parametrize("page", _list_pages(), ids=lambda page: page[0])
def test_every_list_page_sorts_by_each_key_both_ways(admin_client, tools, page):
    name, view = page
    url = reverse(name)
    for key in view.sortable:
        for sort in (key, f"-{key}"):
            response = admin_client.get(url, {"sort": sort})
            assert response.status_code == 200, (name, sort)
            assert response.context["list_sort"].requested.param == sort
            partial = admin_client.get(url, {"sort": sort}, HTTP_HX_REQUEST="true")
            assert partial.status_code == 200, (name, sort)
