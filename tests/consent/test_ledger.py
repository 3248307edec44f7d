"""The consent ledger: append-only, latest choice wins across merged identities, jurisdiction
defaults where nobody chose, GPC as an opt-out of sale and sharing."""

import datetime as dt

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction
from rest_framework.test import APIClient

from apps.access import services as svc
from apps.accounts.services import api_token_create
from apps.consent import gate, selectors, services
from apps.consent.models import AppendOnlyError, ConsentRecord
from apps.identity import services as identity
from apps.identity.models import Merge
from apps.identity.normalise import Ident
from martech.common.errors import ApplicationError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ANON = Ident("anonymous_id", "c-77")
EMAIL = Ident("email", "mei@example.com")
T0 = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)


def _choose(subject, purpose, granted, minutes=0, jurisdiction="gdpr", source="banner"):
    return services.consent_record(
        subject=subject,
        purpose=purpose,
        granted=granted,
        source=source,
        jurisdiction=jurisdiction,
        occurred_at=T0 + dt.timedelta(minutes=minutes),
    )


def _states(subject, **kw):
    return {p.purpose.code: p.granted for p in selectors.consent_state(subject, **kw).purposes}


def test_without_a_choice_the_jurisdiction_default_applies():
    assert _states(Ident("email", "nobody@example.com")) == {
        "necessary": True,
        "analytics": False,
        "email_marketing": False,
        "advertising": False,
        "personalisation": False,
        "sale_share": False,
    }
    _choose(EMAIL, "analytics", True, jurisdiction="ccpa")
    states = _states(EMAIL)
    assert states["advertising"] is True  # opt-out regime: allowed until the person opts out
    assert states["sale_share"] is True


def test_the_latest_choice_wins_and_withdrawing_is_one_record():
    _choose(EMAIL, "email_marketing", True, minutes=0)
    assert _states(EMAIL)["email_marketing"] is True
    _choose(EMAIL, "email_marketing", False, minutes=5)
    assert _states(EMAIL)["email_marketing"] is False
    assert ConsentRecord.objects.count() == 2


def test_a_choice_made_anonymously_follows_the_person_through_a_merge():
    _choose(ANON, "analytics", True, minutes=0)
    assert _states(EMAIL)["analytics"] is False
    identity.link_record(a=ANON, b=EMAIL, rule="identify")
    state = selectors.consent_state(EMAIL)
    analytics = next(p for p in state.purposes if p.purpose.code == "analytics")
    assert analytics.granted is True
    assert "under anonymous_id:c-77" in analytics.reason


def test_when_merged_profiles_disagree_the_most_recent_choice_wins(admin):
    _choose(ANON, "advertising", True, minutes=10)
    _choose(EMAIL, "advertising", False, minutes=3)
    identity.link_record(a=ANON, b=EMAIL, rule="identify")
    assert _states(EMAIL)["advertising"] is True
    assert _states(ANON)["advertising"] is True
    # Undo the merge: each identifier has its own choices again.
    identity.merge_undo(actor=admin, merge=Merge.objects.get())
    assert _states(EMAIL)["advertising"] is False


def test_the_snapshot_is_the_state_at_collection_time():
    _choose(EMAIL, "analytics", True, minutes=0)
    _choose(EMAIL, "analytics", False, minutes=60)
    before = selectors.consent_snapshot(EMAIL, at=T0 + dt.timedelta(minutes=30))
    assert before["analytics"] is True
    assert selectors.consent_snapshot(EMAIL)["analytics"] is False
    assert gate.may_process(EMAIL, ["necessary"]) is True
    assert gate.may_process(EMAIL, ["necessary", "analytics"]) is False


def test_gpc_records_an_opt_out_of_sale_and_sharing():
    _choose(EMAIL, "sale_share", True, jurisdiction="ccpa")
    record = services.gpc_record(subject=EMAIL, jurisdiction="ccpa")
    assert (record.source, record.granted, record.purpose.code) == ("gpc", False, "sale_share")
    assert _states(EMAIL)["sale_share"] is False


def test_bad_input_is_refused_with_a_reason():
    for kwargs, code in [
        ({"purpose": "telepathy"}, "unknown_purpose"),
        ({"jurisdiction": "mars"}, "jurisdiction"),
        ({"occurred_at": dt.datetime(2999, 1, 1, tzinfo=dt.UTC)}, "future_choice"),
    ]:
        args = {
            "subject": EMAIL,
            "purpose": "analytics",
            "granted": True,
            "source": "form",
            "jurisdiction": "gdpr",
            **kwargs,
        }
        with pytest.raises(ApplicationError) as caught:
            services.consent_record(**args)
        assert caught.value.code == code
    with pytest.raises(ApplicationError):
        services.consent_record(
            subject=("email", "undefined"),
            purpose="analytics",
            granted=True,
            source="form",
            jurisdiction="gdpr",
        )


def test_the_ledger_cannot_be_altered_through_the_orm_or_the_database():
    record = _choose(EMAIL, "analytics", True)
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.filter(pk=record.pk).update(granted=False)
    for sql in (
        "UPDATE consent_consentrecord SET granted = false",
        "DELETE FROM consent_consentrecord",
    ):
        with (
            pytest.raises((InternalError, ProgrammingError, IntegrityError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert ConsentRecord.objects.get().granted is True


def test_erasure_can_remove_records_inside_its_own_transaction():
    _choose(EMAIL, "analytics", True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL martech.erasure = 'on'")
        ConsentRecord.objects.all()._erase()
    assert ConsentRecord.objects.count() == 0


# --- API -------------------------------------------------------------------------------------


def _api(*capabilities):
    admin = UserFactory(is_superuser=True)
    person = UserFactory()
    if capabilities:
        role = svc.role_create(actor=admin, name="Consent", owner=admin)
        for code in capabilities:
            svc.role_capability_set(actor=admin, role=role, capability=code)
        svc.role_assign(actor=admin, user=person, role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=person, name='t')[1]}")
    return client


def test_the_api_records_and_a_gpc_header_adds_the_opt_out():
    client = _api("consent.record", "consent.view")
    body = {
        "identifier": "email:Mei@Example.com",
        "purpose": "analytics",
        "granted": True,
        "jurisdiction": "ccpa",
        "notice_version": "2026-09",
    }
    response = client.post("/api/v1/consent-records/", body, format="json", HTTP_SEC_GPC="1")
    assert response.status_code == 201, response.json()
    assert [(r["purpose"], r["granted"], r["source"]) for r in response.json()] == [
        ("analytics", True, "api"),
        ("sale_share", False, "gpc"),
    ]
    state = client.get("/api/v1/consent-state/", {"identifier": "email:mei@example.com"}).json()
    by_code = {p["purpose"]: p for p in state["purposes"]}
    assert by_code["sale_share"]["granted"] is False
    assert by_code["advertising"]["default"] is True
    listed = client.get("/api/v1/consent-records/", {"identifier": "email:mei@example.com"})
    assert listed.json()["count"] == 2


def test_the_api_cannot_change_or_delete_records():
    client = _api("consent.record", "consent.view")
    record = _choose(EMAIL, "analytics", True)
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"/api/v1/consent-records/{record.pk}/", {})
        assert response.status_code in (404, 405)
    assert ConsentRecord.objects.get().granted is True


def test_the_api_explains_bad_identifiers_and_needs_capabilities():
    reader = _api("consent.view")
    bad = reader.get("/api/v1/consent-state/", {"identifier": "email:undefined"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "junk_identifier"
    missing = reader.get("/api/v1/consent-state/")
    assert missing.json()["code"] == "identifier_required"
    refused = reader.post("/api/v1/consent-records/", {}, format="json")
    assert refused.status_code == 403
    assert _api().get("/api/v1/consent-state/", {"identifier": "email:a@b.co"}).status_code == 403


def test_snapshots_for_a_batch_agree_with_asking_one_by_one():
    import datetime as dt

    from django.utils import timezone

    from apps.consent.selectors import consent_snapshot, consent_snapshots
    from apps.consent.services import consent_record
    from apps.identity.normalise import Ident
    from apps.identity.services import link_record

    now = timezone.now()
    cookie, email, other = (
        Ident("anonymous_id", "ajs-b1"),
        Ident("email", "b1@example.com"),
        Ident("anonymous_id", "ajs-b2"),
    )
    consent_record(
        subject=cookie,
        purpose="analytics",
        granted=True,
        source="banner",
        jurisdiction="gdpr",
        occurred_at=now - dt.timedelta(days=3),
    )
    consent_record(
        subject=email,
        purpose="analytics",
        granted=False,
        source="form",
        jurisdiction="ccpa",
        occurred_at=now - dt.timedelta(days=1),
    )
    link_record(a=cookie, b=email, rule="identify")
    asks = [
        (cookie, now),
        (cookie, now - dt.timedelta(days=2)),
        (email, now),
        (other, now),
        (Ident("user_id", "never-seen"), now),
    ]
    assert consent_snapshots(asks) == [consent_snapshot(s, at=at) for s, at in asks]
