"""The official Segment, RudderStack and Snowplow Python SDKs, unmodified, against the running
console: what they send is stored once, including when they retry after a 429."""

import logging

import pytest

from apps.consent.defaults import ensure_default_purposes
from apps.events import services
from apps.events.models import Event
from tests.factories import AdminFactory
from tests.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def source():
    ensure_default_purposes()
    return services.source_create(actor=AdminFactory(), name="SDKs", rate_limit=1000)


class _Recorder(logging.Handler):
    """Keeps the console's own log records of refused requests (Django logs every 4xx)."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_segment_python_sdk_batches_gzip_and_all_call_types(live_server, source):
    from segment.analytics import Client

    _, key = source
    errors = []
    client = Client(
        write_key=key,
        host=live_server.url,
        gzip=True,
        sync_mode=False,
        on_error=lambda e, batch: errors.append(e),
        max_retries=3,
    )
    client.identify("u-1", {"email": "ana@example.com"}, anonymous_id="ajs-1")
    client.track("u-1", "Order Completed", {"total": 20}, anonymous_id="ajs-1")
    client.page("u-1", "Docs", "Getting started", {"url": "https://www.acme.example/docs"})
    client.screen("u-1", "App", "Home")
    client.group("u-1", "acme-inc", {"plan": "enterprise"})
    client.alias("ajs-1", "u-1")
    client.flush()
    client.join()
    assert errors == []
    types = sorted(Event.objects.values_list("type", flat=True))
    assert types == ["alias", "group", "identify", "page", "screen", "track"]
    track = Event.objects.get(type="track")
    assert track.payload["context"]["library"]["name"] == "analytics-python"


def test_rudderstack_python_sdk(live_server, source):
    from rudderstack.analytics import Client

    _, key = source
    errors = []
    client = Client(write_key=key, host=live_server.url, on_error=lambda e, b: errors.append(e))
    client.track("u-7", "Signed Up", {"method": "email"})
    client.flush()
    client.join()
    assert errors == []
    assert Event.objects.get().name == "Signed Up"


def test_snowplow_python_tracker_over_post_and_get(live_server, source):
    from snowplow_tracker import (
        Emitter,
        PageView,
        SelfDescribing,
        SelfDescribingJson,
        Subject,
        Tracker,
    )

    _, key = source
    host = live_server.url.split("://", 1)[1]
    failures = []
    for method in ("post", "get"):
        emitter = Emitter(
            host,
            protocol="http",
            method=method,
            batch_size=1,
            on_failure=lambda count, events: failures.append(count),
        )
        tracker = Tracker(
            f"ns-{method}", emitter, subject=Subject().set_domain_user_id("d-1"), app_id=key
        )
        tracker.track(PageView(page_url=f"https://www.acme.example/{method}", page_title=method))
        tracker.track(
            SelfDescribing(
                SelfDescribingJson("iglu:com.acme/order_completed/jsonschema/1-0-0", {"total": 5})
            )
        )
        emitter.flush()
    assert failures == []
    names = sorted(Event.objects.values_list("name", flat=True))
    assert names == ["Order Completed", "Order Completed", "get", "post"]


def test_a_sdk_retrying_after_a_429_gets_its_events_stored_exactly_once(live_server, source):
    from segment.analytics import Client

    source_obj, key = source
    services.source_update(actor=source_obj.owner, source=source_obj, rate_limit=1)
    errors, refused = [], _Recorder()
    logging.getLogger("django.request").addHandler(refused)
    try:
        client = Client(
            write_key=key,
            host=live_server.url,
            upload_size=1,
            max_retries=6,
            on_error=lambda e, batch: errors.append(e),
        )
        for n in range(4):  # four requests at once: past one a second, some get 429 and retry
            client.track("u-1", "Order Completed", {"total": n})
        client.flush()
        client.join()
    finally:
        logging.getLogger("django.request").removeHandler(refused)
    assert errors == []
    assert any(getattr(r, "status_code", None) == 429 for r in refused.records)
    stored = wait_until(lambda: Event.objects.count() == 4 and Event.objects.count(), timeout=60)
    assert stored == 4
    assert Event.objects.values("message_id").distinct().count() == 4
