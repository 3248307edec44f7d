"""The official Node SDKs (Segment's analytics-node, RudderStack's rudder-sdk-node,
Snowplow's node-tracker), unmodified, sending to the running console."""

import subprocess
import uuid
from pathlib import Path

import pytest

from apps.consent.defaults import ensure_default_purposes
from apps.events import services
from apps.events.models import Event
from tests.factories import AdminFactory
from tests.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
HERE = Path(__file__).resolve().parents[1] / "sdk_node"


def _send(sdk: str, url: str, key: str, run: str) -> None:
    if not (HERE / "node_modules").exists():
        pytest.fail("The Node SDKs are missing: `make test` runs `npm ci` in tests/sdk_node.")
    done = subprocess.run(
        ["node", "send.mjs", sdk, url, key, run],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def key():
    ensure_default_purposes()
    return services.source_create(actor=AdminFactory(), name="Node SDKs", rate_limit=1000)[1]


def test_segment_analytics_node(live_server, key):
    run = uuid.uuid4().hex[:8]
    _send("segment", live_server.url, key, run)
    events = wait_until(lambda: list(Event.objects.filter(user_id=f"node-{run}")))
    assert sorted(e.type for e in events) == ["identify", "page", "track"]
    track = next(e for e in events if e.type == "track")
    assert track.payload["context"]["library"]["name"] == "@segment/analytics-node"


def test_rudderstack_node_sdk(live_server, key):
    run = uuid.uuid4().hex[:8]
    _send("rudderstack", live_server.url, key, run)
    events = wait_until(lambda: list(Event.objects.filter(user_id=f"node-{run}")))
    assert sorted(e.type for e in events) == ["identify", "track"]


def test_snowplow_node_tracker(live_server, key):
    run = uuid.uuid4().hex[:8]
    _send("snowplow", live_server.url, key, run)
    events = wait_until(lambda: list(Event.objects.filter(anonymous_id=f"duid-{run}")))
    assert sorted(e.name for e in events) == ["Home", "Order Completed"]
