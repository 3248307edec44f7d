"""The append-only audit log: the writer, its guarantees, its page and its API."""

import datetime as dt
import re

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from apps.access.services import role_assign, role_capability_set, role_create
from apps.accounts.services import user_create
from apps.audit.models import AppendOnlyError, AuditEvent
from apps.audit.services import audit_diff, audit_record
from martech.common import context
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_audit_record_takes_actor_request_id_and_ip_from_the_context(user):
    with context.acting(request_id="req-12345678", ip_address="10.1.2.3", user=user):
        event = audit_record(
            action="tools.tool.updated", target=user, before={"a": 1}, after={"a": 2}
        )
    assert event.actor == user
    assert event.actor_label == user.email
    assert event.request_id == "req-12345678"
    assert event.ip_address == "10.1.2.3"
    assert event.target_label == "accounts.user"
    assert event.changes == {"a": {"before": 1, "after": 2}}


def test_audit_record_without_a_user_names_the_system_actor():
    with context.acting(system_actor="task:accounts.api_tokens_purge_expired"):
        event = audit_record(action="accounts.api_token.purged")
    assert event.actor is None
    assert event.is_system
    assert event.actor_label == "task:accounts.api_tokens_purge_expired"


def test_audit_diff_keeps_only_changed_fields_and_serialises_values():
    day = dt.date(2026, 3, 1)
    changes = audit_diff(
        {"a": 1, "b": day, "c": "x"}, {"a": 1, "b": dt.date(2026, 3, 2), "d": True}
    )
    assert changes == {
        "b": {"before": "2026-03-01", "after": "2026-03-02"},
        "c": {"before": "x", "after": None},
        "d": {"before": None, "after": True},
    }


@transaction.atomic
def _create_then_fail():
    user_create(email="ghost@acme.example", full_name="Ghost")
    raise RuntimeError("the change fails after the audit write")


def test_a_rolled_back_change_leaves_no_audit_event():
    with pytest.raises(RuntimeError):
        _create_then_fail()
    assert not AuditEvent.objects.filter(action="accounts.user.created").exists()


def test_audit_events_refuse_update_and_delete_through_the_orm():
    event = audit_record(action="x.y.created")
    event.action = "x.y.tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_postgres_trigger_refuses_raw_sql_update_and_delete():
    assert connection.vendor == "postgresql"
    event = audit_record(action="x.y.created")
    for sql in (
        "UPDATE audit_auditevent SET action = 'tampered' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "x.y.created"


def test_the_request_id_is_the_servers_and_the_clients_id_is_kept_apart(admin_client, admin):
    # given a client that sends the request id of someone else's request
    other = AuditEvent.objects.create(action="erasure.request.approved", request_id="f" * 32)
    # when it changes something
    response = admin_client.post(
        reverse("accounts:token_list"), {"name": "x", "days": 5}, HTTP_X_REQUEST_ID=other.request_id
    )
    # then its change is filed under a fresh id of the server's, returned in the header
    event = AuditEvent.objects.get(action="accounts.api_token.created")
    assert event.request_id != other.request_id
    assert re.fullmatch(r"[0-9a-f]{32}", event.request_id)
    assert response["X-Request-ID"] == event.request_id
    assert event.client_request_id == other.request_id
    assert event.actor == admin
    assert list(AuditEvent.objects.filter(request_id=other.request_id)) == [other]


def test_each_request_gets_its_own_id_whatever_the_client_sends(admin_client):
    ids = {
        admin_client.get(reverse("dashboard"), HTTP_X_REQUEST_ID="same-id-1234")["X-Request-ID"]
        for _ in range(3)
    }
    assert len(ids) == 3
    assert "same-id-1234" not in ids


def test_the_clients_request_id_is_sanitised_and_capped(admin_client):
    admin_client.post(
        reverse("accounts:token_list"),
        {"name": "x", "days": 5},
        HTTP_X_REQUEST_ID="bad id\t<script>" + "a" * 500,
    )
    event = AuditEvent.objects.get(action="accounts.api_token.created")
    assert event.client_request_id == ("badidscript" + "a" * 64)[:64]
    assert len(event.client_request_id) == 64
    assert len(event.request_id) == 32


def test_the_clients_request_id_is_on_the_audit_page_and_api(admin_client, admin_api):
    admin_client.post(
        reverse("accounts:token_list"), {"name": "x", "days": 5}, HTTP_X_REQUEST_ID="trace-77"
    )
    event = AuditEvent.objects.get(client_request_id="trace-77")
    page = admin_client.get(reverse("audit:event_detail", args=[event.pk]))
    assert b"trace-77" in page.content
    assert event.request_id.encode() in page.content
    body = admin_api.get(f"/api/v1/audit-events/{event.pk}/").json()
    assert (body["request_id"], body["client_request_id"]) == (event.request_id, "trace-77")


def _events(n, **kwargs):
    for i in range(n):
        audit_record(action=kwargs.get("action", "tools.tool.updated"), metadata={"i": i})


def test_audit_page_needs_the_audit_view_capability(user_client):
    response = user_client.get(reverse("audit:event_list"))
    assert response.status_code == 403
    assert b"audit.view" in response.content


def test_audit_page_paginates_and_filters_by_action_prefix(admin_client):
    _events(60)
    _events(3, action="accounts.user.created")
    page = admin_client.get(reverse("audit:event_list"))
    assert page.status_code == 200
    assert page.context["page_obj"].paginator.count >= 63
    assert len(page.context["object_list"]) == 50
    filtered = admin_client.get(reverse("audit:event_list"), {"action": "accounts.user.cr"})
    assert {e.action for e in filtered.context["object_list"]} == {"accounts.user.created"}


def test_audit_detail_shows_the_before_and_after(admin_client, user):
    event = audit_record(
        action="accounts.user.updated",
        target=user,
        before={"team": "Brand"},
        after={"team": "Growth"},
    )
    response = admin_client.get(reverse("audit:event_detail", args=[event.pk]))
    assert response.status_code == 200
    assert b"Brand" in response.content
    assert b"Growth" in response.content


def test_audit_api_lists_with_filters_and_pagination(admin_api, user):
    _events(5)
    audit_record(action="accounts.user.updated", target=user)
    response = admin_api.get(
        "/api/v1/audit-events/", {"target_type": "accounts.user", "page_size": 2}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] >= 1
    assert all(row["target_type"] == "accounts.user" for row in body["results"])
    assert len(body["results"]) <= 2
    since = (timezone.now() - dt.timedelta(minutes=5)).isoformat()
    recent = admin_api.get("/api/v1/audit-events/", {"occurred_after": since, "system": "true"})
    assert recent.status_code == 200
    assert all(row["is_system"] for row in recent.json()["results"])


def test_audit_api_is_403_without_the_capability(api):
    response = api.get("/api/v1/audit-events/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_audit_api_is_read_only(admin_api):
    event = audit_record(action="x.y.created")
    assert admin_api.delete(f"/api/v1/audit-events/{event.pk}/").status_code == 405
    assert admin_api.post("/api/v1/audit-events/", {}, format="json").status_code == 405


def test_audit_view_granted_by_a_role_opens_the_audit_api(api, user, admin):
    # given: a role that gives audit.view, assigned to an ordinary person
    role = role_create(actor=admin, name="Auditors", owner=admin)
    role_capability_set(actor=admin, role=role, capability="audit.view")
    assert api.get("/api/v1/audit-events/").status_code == 403
    # when
    role_assign(actor=admin, user=user, role=role)
    # then: the same person, through the same token, may read the log
    person = type(user).objects.get(pk=user.pk)
    assert person.has_perm("audit.view")
    assert api.get("/api/v1/audit-events/").status_code == 200


def test_user_history_on_the_profile_page(admin_client):
    person = UserFactory()
    audit_record(
        action="accounts.user.updated", target=person, before={"team": "A"}, after={"team": "B"}
    )
    response = admin_client.get(reverse("accounts:user_detail", args=[person.pk]))
    assert b"accounts.user.updated" in response.content


def test_audit_api_accepts_any_valid_utc_offset_and_rejects_garbage_dates(admin_api):
    # PostgreSQL refuses offsets past ±15:59; the filter converts to UTC first.
    ok = admin_api.get("/api/v1/audit-events/", {"occurred_before": "3401-04-28T04:58:23+16:01"})
    assert ok.status_code == 200
    bad = admin_api.get("/api/v1/audit-events/", {"occurred_before": "yesterday"})
    assert bad.status_code == 400
    assert "occurred_before" in bad.json()["details"]["fields"]


def test_boolean_filters_reject_anything_but_true_or_false(admin_api):
    assert admin_api.get("/api/v1/audit-events/", {"system": "true"}).status_code == 200
    response = admin_api.get("/api/v1/audit-events/", {"system": "null"})
    assert response.status_code == 400
    assert response.json()["details"]["fields"]["system"] == ["Use true or false."]


def test_page_size_must_be_a_whole_number_in_range(admin_api):
    for value in ("0", "abc", "501"):
        response = admin_api.get("/api/v1/audit-events/", {"page_size": value})
        assert response.status_code == 400, value
        assert "page_size" in response.json()["details"]["fields"]


def test_audit_page_says_which_filter_it_could_not_apply(admin_client):
    response = admin_client.get(reverse("audit:event_list"), {"occurred_after": "garbage"})
    assert response.status_code == 200
    assert b"Some filters were not applied" in response.content
    assert b"From:" in response.content


def test_truncate_of_the_audit_log_is_refused_by_the_database():
    # given a session that has not allowed TRUNCATE (only the test settings do)
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; its DELETE triggers refuse the equivalent")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('martech.allow_truncate', 'off', true)")
        # when someone empties the audit log, then the database refuses
        with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
            cursor.execute("TRUNCATE audit_auditevent CASCADE")


def test_a_plain_connection_cannot_truncate_the_audit_log():
    # given a connection as production opens it (no session settings)
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    import psycopg

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
        # when it truncates the audit log, then the database refuses
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="TRUNCATE refused"):
            plain.execute("TRUNCATE audit_auditevent CASCADE")
    finally:
        plain.rollback()
        plain.close()


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_is_still_flushed_with_audit_and_consent_rows():
    """The test runner empties every table with one TRUNCATE after this test; the test
    settings allow it for their sessions (``martech.allow_truncate``), so it succeeds."""
    from apps.consent.defaults import ensure_default_purposes
    from apps.consent.services import consent_record

    ensure_default_purposes()
    consent_record(
        subject=("anonymous_id", "ajs-flush"),
        purpose="analytics",
        granted=True,
        source="banner",
        jurisdiction="gdpr",
    )
    assert AuditEvent.objects.filter(action="consent.record.created").count() == 1


def test_audit_filter_reads_a_moved_models_old_label_and_refuses_an_unknown_type(
    admin_api, admin_client, admin
):
    from apps.access import services as access

    role = access.role_create(actor=admin, name="Auditors", owner=admin)

    old = admin_api.get("/api/v1/audit-events/", {"target_type": "accounts.role"})
    new = admin_api.get("/api/v1/audit-events/", {"target_type": "access.role"})
    unknown = admin_api.get("/api/v1/audit-events/", {"target_type": "foo.bar"})

    assert old.status_code == new.status_code == 200
    assert old.json()["count"] == new.json()["count"] >= 1
    assert {r["target_id"] for r in new.json()["results"]} >= {str(role.pk)}
    assert unknown.status_code == 400
    assert unknown.json()["code"]
    page = admin_client.get(reverse("audit:event_list"), {"target_type": "foo.bar"})
    assert page.status_code in (200, 400)
    assert "Not a kind of record the console keeps" in page.content.decode()
