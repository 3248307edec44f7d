"""Every write to the consent ledger is audited, whoever makes it (a person through the API, a
website through ``/v1/consent``, the pipeline honouring GPC); the ledger cannot be emptied
with TRUNCATE."""

import base64
import json

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from apps.access import services as svc
from apps.accounts.services import api_token_create
from apps.audit.models import AuditEvent
from apps.consent.models import ConsentRecord
from apps.events import services as events
from apps.events.pipeline import process_waiting
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _recorder():
    admin = UserFactory(is_superuser=True)
    person = UserFactory()
    role = svc.role_create(actor=admin, name="Consent", owner=admin)
    svc.role_capability_set(actor=admin, role=role, capability="consent.record")
    svc.role_assign(actor=admin, user=person, role=role)
    return person, api_token_create(user=person, name="t")[1]


def _consent_audits():
    return list(AuditEvent.objects.filter(action="consent.record.created").order_by("id"))


def _basic(raw):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{raw}:".encode()).decode()}


def test_a_choice_recorded_through_the_api_is_audited_as_the_person(client):
    # given a person who may record consent
    person, token = _recorder()
    body = {
        "identifier": "email:mei@example.com",
        "purpose": "analytics",
        "granted": True,
        "jurisdiction": "gdpr",
    }
    # when they record a choice, with a GPC header
    response = client.post(
        "/api/v1/consent-records/",
        json.dumps(body),
        content_type="application/json",
        HTTP_SEC_GPC="1",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    # then both records are audited as theirs, without the subject's identifier
    assert response.status_code == 201
    audits = _consent_audits()
    records = list(ConsentRecord.objects.order_by("id"))
    assert [a.target_id for a in audits] == [str(r.pk) for r in records]
    assert [(a.actor, a.metadata["purpose"], a.metadata["granted"]) for a in audits] == [
        (person, "analytics", True),
        (person, "sale_share", False),
    ]
    assert audits[1].metadata["source"] == "gpc"
    assert all(len(a.request_id) == 32 for a in audits)
    assert "mei@example.com" not in json.dumps([[a.target_repr, a.metadata] for a in audits])


def test_banner_choices_from_a_website_are_audited_with_the_source_as_actor(client, admin):
    # given a website's source
    _, raw = events.source_create(actor=admin, name="Web shop", allowed_origins=[])
    # when its banner sends two choices and a GPC signal
    body = {
        "anonymousId": "ajs-5f1c",
        "choices": {"analytics": True, "advertising": False},
        "jurisdiction": "gdpr",
    }
    response = client.post(
        "/v1/consent",
        json.dumps(body),
        content_type="application/json",
        HTTP_SEC_GPC="1",
        **_basic(raw),
    )
    # then each of the three records is audited, by the source
    assert response.status_code == 200
    audits = _consent_audits()
    assert len(audits) == 3 == ConsentRecord.objects.count()
    assert {a.actor_label for a in audits} == {"source:Web shop"}
    assert all(a.actor is None for a in audits)
    assert sorted(a.metadata["purpose"] for a in audits) == [
        "advertising",
        "analytics",
        "sale_share",
    ]
    assert all(a.metadata["via"] == "collection:Web shop" for a in audits)


def test_the_gpc_opt_out_the_pipeline_records_is_audited_once(client, admin):
    # given events collected with a GPC header
    _, raw = events.source_create(actor=admin, name="Web", allowed_origins=[])
    batch = {
        "batch": [
            {"type": "track", "event": "Viewed", "messageId": f"m{i}", "anonymousId": "ajs-9"}
            for i in range(3)
        ]
    }
    client.post(
        "/v1/batch",
        json.dumps(batch),
        content_type="application/json",
        HTTP_SEC_GPC="1",
        **_basic(raw),
    )
    # when the pipeline processes them
    assert process_waiting() == 3
    # then the one opt-out it recorded is audited as the system's, and nothing else per event
    record = ConsentRecord.objects.get(source="gpc")
    (audit,) = _consent_audits()
    assert (audit.target_id, audit.actor, audit.metadata["purpose"]) == (
        str(record.pk),
        None,
        "sale_share",
    )
    assert audit.metadata["via"] == "collection:Web"


def test_truncate_of_the_ledger_is_refused_by_the_database():
    # given a database session that has not allowed TRUNCATE (only the test settings do)
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('martech.allow_truncate', 'off', true)")
        # when someone empties the ledger, then the database refuses
        with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
            cursor.execute("TRUNCATE consent_consentrecord CASCADE")


def test_a_plain_connection_cannot_truncate_the_ledger():
    # given a connection as production opens it (no session settings)
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    db = connection.settings_dict
    plain = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    )
    try:
        plain.execute("SET lock_timeout = '5s'")
        # when it truncates the ledger, then the database refuses
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="TRUNCATE refused"):
            plain.execute("TRUNCATE consent_consentrecord CASCADE")
    finally:
        plain.rollback()
        plain.close()
