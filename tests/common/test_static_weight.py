"""A page carries only the front-end weight it uses, under names that change with the
content, which browsers keep for a year.

The icons are drawn inline from the vendored sprite, which no page links; the pages link the
design-system CSS cut down to what the console uses (tabler.console.min.css). The serving
tests collect the static files as production and ``make run`` do (hashed, compressed) and
fetch them through the console's own middleware, whitenoise included.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client, override_settings

from martech.common.icons import UnknownIconError, icon_names
from martech.common.navigation import pages_for
from martech.settings import base as base_settings

ROOT = Path(settings.BASE_DIR)
TABLER = ROOT / "static" / "vendor" / "tabler"
# Where the console names design-system classes (as scripts/vendor_assets.py reads them).
SOURCES = ("templates/**/*.html", "static/js/**/*.js", "apps/**/*.py", "martech/**/*.py")
# The overview as an administrator sees it (chart and all): HTML, CSS, JavaScript and images,
# uncompressed: 614 KB in 2026-12 (chart.js 208 KB, tabler.js 135 KB, the CSS 176 KB); it
# was 2.9 MB with the icon sprite and the full design-system CSS.
DASHBOARD_BUDGET = 650_000
A_YEAR = "max-age=31536000, public, immutable"
HASHED = re.compile(r"\.[0-9a-f]{12}\.(css|js|svg)$")


class _Assets(HTMLParser):
    """The static files a page makes the browser fetch: stylesheets, scripts, images."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        url = {"link": attrs.get("href"), "script": attrs.get("src"), "img": attrs.get("src")}
        url.update({"use": attrs.get("href"), "image": attrs.get("href")})
        if url.get(tag) and "/static/" in url[tag]:
            self.urls.append(url[tag].split("#")[0])


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _selectors(css: str) -> list[str]:
    """Every single selector of a stylesheet's rules (at-rules' own lines left out)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"url\([^)]*\)|\"[^\"]*\"|'[^']*'", "", css)
    selectors = []
    for group in re.findall(r"([^{}]+)\{", css):
        if not group.strip().startswith("@"):
            selectors.extend(s.strip() for s in re.split(r",(?![^(]*\))", group))
    return selectors


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """The static files collected under the production storage, and the console serving
    them with the middleware built for those settings."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(
        STORAGES=base_settings.STORAGES, STATIC_ROOT=root, WHITENOISE_USE_FINDERS=False
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


@pytest.fixture
def served_admin_client(collected, admin):
    client = Client()
    client.force_login(admin)
    return client


def test_every_icon_a_template_or_a_page_names_is_in_the_sprite(admin):
    # given
    names = set()
    for template in (ROOT / "templates").glob("**/*.html"):
        names.update(re.findall(r'\{% icon "([^"]+)"', template.read_text()))
    names.update(page.icon for page in pages_for(admin))

    # then
    assert len(names) > 30
    assert sorted(names - icon_names()) == []


def test_an_icon_is_drawn_inline_from_its_own_shapes():
    html = Template('{% load console %}{% icon "search" "extra" %}').render(Context())

    assert html.startswith('<svg class="icon extra" viewBox="0 0 24 24" aria-hidden="true"')
    assert '<path d="M21 21l-6 -6"/>' in html
    assert 'stroke="currentColor"' in html
    assert "<use" not in html
    assert "sprite" not in html


def test_an_unknown_icon_name_fails_loudly():
    with pytest.raises(UnknownIconError, match="no-such-icon"):
        Template('{% load console %}{% icon "no-such-icon" %}').render(Context())


@pytest.mark.parametrize(
    "path", ["/", "/audit/", "/tools/", "/people/", "/destinations/new/", "/notifications/"]
)
def test_no_page_links_the_icon_sprite_or_the_full_design_system_css(admin_client, path):
    html = admin_client.get(path).content.decode()

    assert "tabler-sprite" not in html
    assert "tabler.min.css" not in html
    assert "tabler.console.min.css" in html


def test_the_lean_css_keeps_every_rule_whose_classes_the_console_uses():
    # given: every class name written in the console's sources
    words = set()
    for pattern in SOURCES:
        for path in ROOT.glob(pattern):
            words.update(re.findall(r"[A-Za-z0-9_-]+", path.read_text(errors="ignore")))
    lean = set(_selectors((TABLER / "tabler.console.min.css").read_text()))

    # then: a rule of the full CSS that needs only such classes is in the lean CSS
    # (after using a new design-system class, run: python scripts/vendor_assets.py --css)
    missing = []
    for selector in _selectors((TABLER / "tabler.min.css").read_text()):
        if "[" in selector or "#" in selector:
            continue
        classes = set(re.findall(r"\.(-?[_a-zA-Z][\w-]*)", re.sub(r":not\([^)]*\)", "", selector)))
        if classes and classes <= words and selector not in lean:
            missing.append(selector)
    assert missing == []


def test_static_files_have_hashed_names_and_are_cached_for_a_year(served_admin_client):
    # when
    page = served_admin_client.get("/")
    urls = _assets(page.content.decode())

    # then: every stylesheet and script the page links is named by its content's hash
    assert any(url.endswith(".css") for url in urls)
    assert any(url.endswith(".js") for url in urls)
    for url in urls:
        assert HASHED.search(url), url
        response = served_admin_client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == A_YEAR, url

    # and a name without a hash, which can change under the same URL, is kept a minute only
    plain = served_admin_client.get("/static/css/console.css")
    assert plain.status_code == 200
    assert plain["Cache-Control"] == "max-age=60, public"


def test_the_overview_weighs_less_than_its_budget(served_admin_client):
    # when
    page = served_admin_client.get("/")
    urls = _assets(page.content.decode())
    sizes = {url: len(_body(served_admin_client.get(url))) for url in urls}

    # then
    assert any("chart" in url for url in urls)  # the heaviest version of the page
    assert not [url for url in urls if "sprite" in url or "tabler.min.css" in url]
    total = len(page.content) + sum(sizes.values())
    assert total < DASHBOARD_BUDGET, sizes
