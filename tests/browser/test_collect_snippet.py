"""The first-party snippet on a real page in Chromium: page views reach the console across
origins, first touch stays, last touch follows marketing arrivals, and GPC is honoured."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.consent.defaults import ensure_default_purposes
from apps.events import services
from apps.events.models import Event
from tests.factories import AdminFactory
from tests.workers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server):
    """A customer's website on its own origin (a second loopback server), carrying the snippet.

    Chromium refuses pages from public addresses calling loopback ones, so the website is
    served for real rather than faked by request interception."""
    holder = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = (
                "<!doctype html><html><head><title>Acme shoes</title>"
                f'<script>window.martech = {{writeKey: "{holder["key"]}", '
                f'host: "{live_server.url}"}};</script>'
                f'<script src="{live_server.url}/static/js/collect.js"></script>'
                "</head><body>Shoes</body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    ensure_default_purposes()
    _, holder["key"] = services.source_create(
        actor=AdminFactory(), name="Storefront", allowed_origins=[origin]
    )
    yield origin
    server.shutdown()


def test_the_snippet_keeps_first_touch_and_moves_last_touch(site, page):
    page.goto(f"{site}/?utm_source=newsletter&utm_medium=email&utm_campaign=autumn")
    wait_until(lambda: Event.objects.count() == 1)
    page.goto(f"{site}/shoes")  # direct: no new touch
    wait_until(lambda: Event.objects.count() == 2)
    page.goto(f"{site}/?gclid=Cj0KCQ&utm_source=google&utm_medium=cpc")
    wait_until(lambda: Event.objects.count() == 3)

    first, direct, paid = (e.payload["properties"] for e in Event.objects.order_by("id"))
    assert (first["UTM_First_Medium"], first["UTM_Last_Medium"]) == ("email", "email")
    assert (direct["UTM_First_Medium"], direct["UTM_Last_Medium"]) == ("email", "email")
    assert (paid["UTM_First_Medium"], paid["UTM_Last_Medium"]) == ("email", "cpc")
    ids = {e.anonymous_id for e in Event.objects.all()}
    assert len(ids) == 1  # one visitor, kept in first-party storage
    assert (
        Event.objects.order_by("id")
        .last()
        .payload["context"]["page"]["url"]
        .endswith("utm_medium=cpc")
    )


def test_a_browser_with_global_privacy_control_is_opted_out(site, browser):
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    page = context.new_page()
    page.add_init_script(
        "Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true});"
    )
    page.goto(f"{site}/")
    event = wait_until(lambda: Event.objects.first())
    context.close()
    assert event.gpc is True
    assert event.payload["context"]["gpc"] is True
