"""Erasure sticks: once Lena's erasure is approved and completed, nothing about her is stored
or sent again by any path. Her history goes through the real collection API and a real
Celery worker (pipeline, deliveries to a loopback webhook, the deletion call); one event
slips in before the approval; then every way she could come back is tried: the collection
API by each identifier a message can carry, /v1/consent, the consent API, the identity API
and a reverse-ETL sync. Afterwards no table of the console holds any of her identifiers, and
the webhook got nothing of her but the deletion call."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.consent.defaults import ensure_default_purposes
from apps.destinations import services as destinations
from apps.erasure import services
from apps.erasure.models import ErasureRequest, RequestStatus
from apps.events.models import Event
from apps.events.services import source_create
from apps.syncs import services as syncs
from apps.syncs.running import execute
from apps.tools.services import tool_create
from tests.destinations.vendors import FakeVendor
from tests.factories import AdminFactory
from tests.syncs.conftest import Table, dsn
from tests.workers import start_worker, wait_until

from .conftest import destination_at

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

EMAIL = "lena.fischer@example.de"
HERS = (
    EMAIL,
    "cus_48213",
    "ajs-5f1c9e2a",
    "ajs-lena-new-device",
    "ajs-early-visitor-88",
    "ajs-brand-new-visitor-77",
    "cus_new_99999",
)
# The company's warehouse table a sync reads (not the console's data).
WAREHOUSE = "wh_people"


def _auth(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{raw}:".encode()).decode()}


def _post(client: Client, path: str, body: dict, raw: str):
    return client.post(path, json.dumps(body), content_type="application/json", **_auth(raw))


def _api(person) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=person, name='t')[1]}")
    return client


def _settled() -> bool:
    """Every event processed and no delivery still waiting."""
    from apps.destinations.models import Delivery

    return (
        not Event.objects.filter(status__in=("received", "failed")).exists()
        and not Delivery.objects.filter(status__in=("pending", "retrying")).exists()
    )


def _tables_mentioning(values: tuple[str, ...]) -> dict[str, list[str]]:
    """Each table of the console's database whose rows, as text, contain any of ``values``
    (case-insensitive), with the values found."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> %s",
            [WAREHOUSE],
        )
        tables = [name for (name,) in cursor.fetchall()]
        for table in tables:
            hits = []
            for value in values:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" t WHERE lower(t::text) LIKE %s',  # noqa: S608
                    [f"%{value.lower()}%"],
                )
                if cursor.fetchone()[0]:
                    hits.append(value)
            if hits:
                found[table] = hits
    return found


def _mentions_her(received) -> bool:
    text = (received.raw or b"").decode(errors="replace").lower() + received.path.lower()
    return any(value.lower() in text for value in HERS)


def test_an_erased_person_is_never_stored_or_sent_again_by_any_path(worker_env):
    ensure_default_purposes()
    admin = AdminFactory()
    _, raw = source_create(actor=admin, name="Website", rate_limit=1000)
    tool = tool_create(actor=admin, name="Data team", vendor="Acme", category="Analytics")
    client = Client()
    table = Table()
    try:
        with FakeVendor("webhook") as hook:
            destination_at(admin, tool, hook, name="Data team webhook", sends="both")
            worker = start_worker(worker_env)
            try:
                # Lena's history: a visitor, then a sign-up, then a second device
                assert (
                    _post(
                        client,
                        "/v1/batch",
                        {
                            "batch": [
                                {
                                    "type": "page",
                                    "messageId": "h1",
                                    "anonymousId": "ajs-5f1c9e2a",
                                    "properties": {"url": "https://www.acme.example/blog"},
                                },
                                {
                                    "type": "identify",
                                    "messageId": "h2",
                                    "anonymousId": "ajs-5f1c9e2a",
                                    "traits": {"email": EMAIL},
                                },
                                {
                                    "type": "identify",
                                    "messageId": "h3",
                                    "userId": "cus_48213",
                                    "anonymousId": "ajs-5f1c9e2a",
                                    "traits": {"email": EMAIL},
                                },
                                {
                                    "type": "track",
                                    "messageId": "h4",
                                    "event": "Order Completed",
                                    "userId": "cus_48213",
                                    "anonymousId": "ajs-lena-new-device",
                                },
                                {
                                    "type": "identify",
                                    "messageId": "other",
                                    "anonymousId": "ajs-someone",
                                    "traits": {"email": "someone@example.de"},
                                },
                            ]
                        },
                        raw,
                    ).status_code
                    == 200
                )
                assert (
                    _post(
                        client,
                        "/v1/consent",
                        {"anonymousId": "ajs-5f1c9e2a", "choices": {"analytics": True}},
                        raw,
                    ).status_code
                    == 200
                )
                wait_until(lambda: _settled() and Event.objects.count() == 5, timeout=120)
                assert any(EMAIL in (r.raw or b"").decode() for r in hook.requests)
            finally:
                worker.stop()

            # one event is accepted while nobody processes it, then the erasure is approved
            assert (
                _post(
                    client,
                    "/v1/batch",
                    {
                        "batch": [
                            {
                                "type": "identify",
                                "messageId": "early",
                                "anonymousId": "ajs-early-visitor-88",
                                "traits": {"email": EMAIL},
                            }
                        ]
                    },
                    raw,
                ).status_code
                == 200
            )
            request = services.request_create(
                actor=admin,
                identifier=f"email:{EMAIL}",
                channel="email",
                jurisdiction="gdpr",
                notes=f"Lena asked from {EMAIL} to be forgotten (cus_48213).",
            )
            services.request_verify(actor=admin, request=request, note="Replied from it")
            services.request_approve(actor=admin, request=request)
            approved_at = len(hook.requests)

            worker = start_worker(worker_env)
            try:
                wait_until(
                    lambda: (
                        ErasureRequest.objects.get(pk=request.pk).status == RequestStatus.COMPLETED
                        and _settled()
                    ),
                    timeout=120,
                )

                # every way back is tried: the collection API by each identifier...
                replay = _post(
                    client,
                    "/v1/batch",
                    {
                        "batch": [
                            {
                                "type": "identify",
                                "messageId": "r1",
                                "anonymousId": "ajs-brand-new-visitor-77",
                                "traits": {"email": EMAIL},
                            },
                            {
                                "type": "track",
                                "messageId": "r2",
                                "event": "Viewed",
                                "anonymousId": "ajs-brand-new-visitor-77",
                                "context": {"traits": {"email": EMAIL.upper()}},
                            },
                            {
                                "type": "alias",
                                "messageId": "r3",
                                "previousId": "ajs-5f1c9e2a",
                                "userId": "cus_new_99999",
                            },
                            {
                                "type": "track",
                                "messageId": "r4",
                                "event": "Viewed",
                                "userId": " cus_48213 ",
                            },
                            {
                                "type": "page",
                                "messageId": "r5",
                                "anonymousId": "ajs-lena-new-device",
                            },
                        ]
                    },
                    raw,
                )
                assert {r["code"] for r in replay.json()["rejected"]} == {"subject_suppressed"}
                assert len(replay.json()["rejected"]) == 5
                # ...the banner, the consent API and the identity API...
                for ids in ({"anonymousId": "ajs-5f1c9e2a"}, {"userId": "cus_48213"}):
                    banner = _post(
                        client, "/v1/consent", {**ids, "choices": {"analytics": True}}, raw
                    )
                    assert (banner.status_code, banner.json()["code"]) == (
                        400,
                        "subject_suppressed",
                    )
                api = _api(admin)
                recorded = api.post(
                    "/api/v1/consent-records/",
                    {
                        "identifier": f"email:{EMAIL}",
                        "purpose": "analytics",
                        "granted": True,
                        "jurisdiction": "gdpr",
                    },
                    format="json",
                )
                assert (recorded.status_code, recorded.json()["code"]) == (
                    400,
                    "subject_suppressed",
                )
                found = api.get("/api/v1/profiles/", {"identifier": f"email:{EMAIL}"}).json()
                assert found["count"] == 0
                # ...and a reverse-ETL sync whose model still has her
                table.execute(
                    f"INSERT INTO {WAREHOUSE} VALUES ('c1', %s, 'Lena', 1), "  # noqa: S608
                    "('c2', 'someone@example.de', 'Someone', 2)",
                    [EMAIL],
                )
                warehouse = syncs.warehouse_create(
                    actor=admin, name="Warehouse", kind="postgres", dsn=dsn()
                )
                model = syncs.model_create(
                    actor=admin,
                    name="People",
                    warehouse=warehouse,
                    primary_key="id",
                    sql=f"SELECT * FROM {WAREHOUSE}",  # noqa: S608
                )
                sync = syncs.sync_create(
                    actor=admin,
                    name="People to the data team",
                    model=model,
                    destination=destinations.destination_create(
                        actor=admin,
                        name="Data team contacts",
                        adapter="webhook",
                        tool=tool,
                        environment="sandbox",
                        is_enabled=True,
                        sends="profiles",
                        credentials=dict(hook.credentials),
                        config={"url": hook.base_url + "/hooks/martech"},
                    ),
                    object="contacts",
                    mode="upsert",
                    subject_column="id",
                    subject_type="user_id",
                    mappings=[{"from": "email", "to": "email"}],
                )
                run = syncs.sync_run(actor=admin, sync=sync)
                execute(run.pk)
                run.refresh_from_db()
                assert (run.added, run.skipped_suppression) == (1, 1)
                wait_until(_settled, timeout=60)
            finally:
                worker.stop()

            after = hook.requests[approved_at:]
            # the deletion call names every identifier of hers (one call per identifier, or
            # one with all of them)
            erasures = [r for r in after if r.path.endswith("/erasure")]
            assert erasures
            sent = " ".join((r.raw or b"").decode() for r in erasures)
            assert all(v in sent for v in ("cus_48213", "ajs-5f1c9e2a", "ajs-lena-new-device"))
            # and nothing else of hers reached the vendor after the approval
            assert [r.path for r in after if _mentions_her(r) and r not in erasures] == []

        # nothing of her is left in any table, as any identifier
        assert not Event.objects.filter(message_id__in=("early", "r1", "r2", "r3")).exists()
        assert _tables_mentioning(HERS) == {}
        assert _tables_mentioning(("someone@example.de",))  # the search finds what is there
    finally:
        table.drop()
