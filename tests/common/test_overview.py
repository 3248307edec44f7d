"""The overview says, to each person, what waits for their decision and what is failing that
they can act on: each section only for those who hold the capability that acts on it, the
most urgent first, in a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import re

import factory
import pytest
from django.test import Client
from django.utils import timezone

from apps.audit.services import audit_record
from tests.factories import AdminFactory, UserFactory, person_with

pytestmark = pytest.mark.django_db

TODAY = dt.date.today


class ToolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tools.Tool"

    name = factory.Sequence(lambda n: f"Tool {n}")
    vendor = "Acme"
    category = "CRM"


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "syncs.Warehouse"

    name = factory.Sequence(lambda n: f"Warehouse {n}")
    kind = "postgres"


class SqlModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "syncs.SqlModel"

    name = factory.Sequence(lambda n: f"Model {n}")
    warehouse = factory.SubFactory(WarehouseFactory)
    sql = "SELECT 1 AS id"
    primary_key = "id"


class DestinationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "destinations.Destination"

    name = factory.Sequence(lambda n: f"Destination {n}")
    adapter = "webhook"
    tool = factory.SubFactory(ToolFactory)
    is_enabled = True


class SyncFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "syncs.Sync"

    name = factory.Sequence(lambda n: f"Customers to CRM {n}")
    model = factory.SubFactory(SqlModelFactory)
    destination = factory.SubFactory(DestinationFactory, environment="production")
    object = "profiles"
    subject_column = "email"
    subject_type = "email"


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "syncs.SyncRun"

    sync = factory.SubFactory(SyncFactory)
    status = "approval"
    mode = "upsert"


class ErasureRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "erasure.ErasureRequest"

    reference = factory.Sequence(lambda n: f"ER-2026-{n + 1:05d}")
    subject_type = "email"
    subject_hash = factory.Sequence(lambda n: f"{n:064x}")
    subject_masked = "a***@acme.example"
    channel = "email"
    jurisdiction = "gdpr"
    received_on = factory.LazyFunction(lambda: TODAY() - dt.timedelta(days=22))
    deadline = factory.LazyFunction(lambda: TODAY() + dt.timedelta(days=8))
    status = "verified"


class ErasureTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "erasure.ErasureTask"

    request = factory.SubFactory(ErasureRequestFactory, status="in_progress")
    kind = "manual"
    name = factory.Sequence(lambda n: f"Tool {n}")
    status = "manual"


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "destinations.Delivery"

    destination = factory.SubFactory(DestinationFactory)
    status = "dead"


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.Source"

    name = factory.Sequence(lambda n: f"Website {n}")


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.Event"

    source = factory.SubFactory(SourceFactory)
    message_id = factory.Sequence(lambda n: f"m-{n}")
    type = "track"
    payload = factory.LazyFunction(lambda: {"type": "track", "event": "Signed Up"})
    timestamp = factory.LazyFunction(timezone.now)
    status = "quarantined"


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "identity.Profile"


class IdentifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "identity.Identifier"

    type = "email"
    value = factory.Sequence(lambda n: f"person{n}@example.com")
    profile = factory.SubFactory(ProfileFactory)


class LinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "identity.Link"

    a = factory.SubFactory(IdentifierFactory)
    b = factory.SubFactory(IdentifierFactory)
    kind = "probabilistic"
    status = "pending"
    rule = "ip_user_agent"


class IntakeRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "intake.IntakeRequest"

    title = factory.Sequence(lambda n: f"Paid social conversions never reach the CRM {n}")
    requester = factory.SubFactory(UserFactory)
    stage = "decision"


def _overview(person) -> str:
    client = Client()
    client.force_login(person)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def _items(html: str) -> list[str]:
    """The keys of the attention list, in the order shown."""
    return re.findall(r'data-attention="([^"]+)"', html)


def _item(html: str, key: str) -> str:
    return html.split(f'data-attention="{key}"', 1)[1].split("</a>", 1)[0]


def test_someone_who_only_sees_syncs_is_not_asked_to_approve_a_held_run():
    # given
    admin = AdminFactory()
    SyncRunFactory(sync__name="Customers to Braze")
    viewer = person_with(admin, "syncs.view", name="Mei Viewer")
    # when
    html = _overview(viewer)
    # then
    assert "syncs.held" not in _items(html)
    assert "Nothing waits for you" in html


def test_an_approver_of_production_runs_sees_the_held_run_and_its_page():
    # given
    admin = AdminFactory()
    run = SyncRunFactory(sync__name="Customers to Braze")
    approver = person_with(admin, "syncs.view", "syncs.run_production", name="Dana Approver")
    # when
    html = _overview(approver)
    # then
    held = _item(html, "syncs.held")
    assert "Approve or cancel the held run of Customers to Braze" in held
    assert f'href="/runs/{run.pk}/"' in html.split('data-attention="syncs.held"')[0][-200:]


def test_a_sync_run_that_failed_today_is_shown_to_who_runs_syncs_and_one_of_last_week_is_not():
    admin = AdminFactory()
    now = timezone.now()
    SyncRunFactory(status="failed", finished_at=now - dt.timedelta(hours=2), sync__name="Today")
    SyncRunFactory(status="failed", finished_at=now - dt.timedelta(days=6), sync__name="Old")
    runner = person_with(admin, "syncs.view", "syncs.run", name="Leo Runner")
    html = _overview(runner)
    assert "A run of Today failed" in _item(html, "syncs.failed")
    assert "Old" not in html


def test_a_privacy_officer_sees_erasure_deadlines_and_the_approval_waiting_for_her():
    # given: one verified request due in 8 days, one in progress due in 5, one overdue
    admin = AdminFactory()
    to_approve = ErasureRequestFactory(reference="ER-2026-00003")
    ErasureRequestFactory(
        reference="ER-2026-00002",
        status="in_progress",
        deadline=TODAY() + dt.timedelta(days=5),
    )
    ErasureRequestFactory(
        reference="ER-2026-00001",
        status="in_progress",
        deadline=TODAY() - dt.timedelta(days=2),
    )
    ErasureRequestFactory(reference="ER-2026-00009", status="completed")
    officer = person_with(
        admin, "erasure.view", "erasure.request", "erasure.approve", name="Fatima Officer"
    )
    # when
    html = _overview(officer)
    # then: the overdue one first, then the nearest deadline, then her approval
    assert _items(html) == ["erasure.late", "erasure.near", "erasure.verified"]
    assert "ER-2026-00001 is past its legal deadline" in _item(html, "erasure.late")
    assert "2 days overdue" in _item(html, "erasure.late")
    assert "ER-2026-00002 nears its legal deadline" in _item(html, "erasure.near")
    assert "due in 5 days" in _item(html, "erasure.near")
    approve = _item(html, "erasure.verified")
    assert "Approve erasure request ER-2026-00003" in approve
    assert "due in 8 days" in approve
    assert f'href="/erasure/{to_approve.pk}/"' in html
    assert "ER-2026-00009" not in html


def test_erasure_deadlines_go_to_who_handles_erasure_not_to_who_only_reads_it():
    admin = AdminFactory()
    ErasureRequestFactory(status="in_progress", deadline=TODAY() - dt.timedelta(days=2))
    reader = person_with(admin, "erasure.view", name="Read Only")
    handler = person_with(admin, "erasure.view", "erasure.request", name="Handler")
    assert _items(_overview(handler)) == ["erasure.late"]
    assert _items(_overview(reader)) == []


def test_a_tool_owner_sees_the_manual_erasure_assigned_to_them_and_a_failed_task_goes_to_handlers():
    admin = AdminFactory()
    owner = UserFactory(full_name="Marcus Owner")
    ErasureTaskFactory(assignee=owner, due_on=TODAY() + dt.timedelta(days=14))
    ErasureTaskFactory(assignee=UserFactory(), due_on=TODAY() + dt.timedelta(days=14))
    ErasureTaskFactory(status="failed", kind="api")
    handler = person_with(admin, "erasure.view", "erasure.request", name="Handler")

    mine = _item(_overview(owner), "erasure.manual")
    assert "Erase a person by hand from 1 tool" in mine
    assert "due in 14 days" in mine
    assert "erasure.failed" in _items(_overview(handler))
    assert "erasure.failed" not in _items(_overview(owner))


def test_who_manages_tools_sees_a_notice_due_soon_and_a_missed_one_first():
    # given: AppsFlyer's notice is due in 3 days, Braze's was missed 19 days ago
    admin = AdminFactory()
    ToolFactory(
        name="AppsFlyer", renewal_date=TODAY() + dt.timedelta(days=33), notice_period_days=30
    )
    ToolFactory(name="Braze", renewal_date=TODAY() + dt.timedelta(days=41), notice_period_days=60)
    ToolFactory(name="Later", renewal_date=TODAY() + dt.timedelta(days=200))
    ToolFactory(name="Retired", status="retired", renewal_date=TODAY() + dt.timedelta(days=5))
    manager = person_with(admin, "tools.view", "tools.manage", name="Tool Manager")
    # when
    html = _overview(manager)
    # then
    assert _items(html) == ["tools.notice_missed", "tools.notice_soon"]
    assert "Braze: notice deadline missed" in _item(html, "tools.notice_missed")
    assert "19 days overdue" in _item(html, "tools.notice_missed")
    assert "AppsFlyer: notice deadline within 30 days" in _item(html, "tools.notice_soon")
    assert "due in 3 days" in _item(html, "tools.notice_soon")


def test_a_tool_owner_who_reads_the_registry_sees_only_the_notices_of_their_own_tools():
    admin = AdminFactory()
    owner = person_with(admin, "tools.view", name="Ravi Owner")
    ToolFactory(name="Mine", business_owner=owner, renewal_date=TODAY() + dt.timedelta(days=40))
    ToolFactory(name="Theirs", renewal_date=TODAY() + dt.timedelta(days=40))
    html = _overview(owner)
    assert "Mine: notice deadline within 30 days" in _item(html, "tools.notice_soon")
    assert "Theirs" not in html


def test_an_approver_sees_the_intake_request_waiting_for_their_verdict_until_they_vote():
    from apps.intake.models import Stakeholder, Vote

    admin = AdminFactory()
    approver = person_with(admin, "intake.decide", name="Ana Approver")
    waiting = IntakeRequestFactory(title="Paid social conversions never reach the CRM")
    Stakeholder.objects.create(request=waiting, person=approver, part="approver")
    other = IntakeRequestFactory(title="Not hers")
    Stakeholder.objects.create(request=other, person=UserFactory(), part="approver")

    item = _item(_overview(approver), "intake.decide")
    assert "Decide the intake request “Paid social conversions never reach the CRM”" in item

    Vote.objects.create(
        request=waiting, approver=approver, round=waiting.round, verdict="approve", comment="Yes"
    )
    assert "intake.decide" not in _items(_overview(approver))


def test_dead_letters_and_quarantined_events_go_to_who_can_replay_them_not_to_viewers():
    admin = AdminFactory()
    DeliveryFactory.create_batch(2)
    EventFactory()
    replayer = person_with(
        admin,
        "destinations.view",
        "destinations.replay",
        "events.view",
        "events.replay",
        name="Replayer",
    )
    viewer = person_with(admin, "destinations.view", "events.view", name="Viewer")

    html = _overview(replayer)
    assert "2 dead letters to fix and replay" in _item(html, "destinations.dead")
    assert "1 event quarantined by the tracking plan" in _item(html, "events.quarantined")
    assert 'href="/events/?status=quarantined"' in html
    assert _items(_overview(viewer)) == []


def test_a_failing_destination_is_shown_to_who_manages_destinations():
    admin = AdminFactory()
    now = timezone.now()
    DestinationFactory(name="Braze (production)", last_error="401", last_error_at=now)
    DestinationFactory(
        name="Recovered", last_error_at=now - dt.timedelta(hours=1), last_success_at=now
    )
    manager = person_with(admin, "destinations.view", "destinations.manage", name="Manager")
    assert "1 destination failing" in _item(_overview(manager), "destinations.failing")


def test_the_link_review_queue_is_shown_to_who_curates_the_identity_graph():
    admin = AdminFactory()
    LinkFactory.create_batch(2)
    LinkFactory(status="active")
    curator = person_with(admin, "identity.view", "identity.manage", name="Curator")
    reader = person_with(admin, "identity.view", name="Reader")
    assert "2 identity links to confirm or reject" in _item(_overview(curator), "identity.review")
    assert "identity.review" not in _items(_overview(reader))


def test_a_plain_user_sees_the_empty_state():
    html = _overview(UserFactory())
    assert _items(html) == []
    assert "Nothing waits for you" in html


def test_failures_and_missed_deadlines_come_before_decisions_without_a_date():
    admin = AdminFactory()
    SyncRunFactory()
    DeliveryFactory()
    ErasureRequestFactory(deadline=TODAY() + dt.timedelta(days=3))
    html = _overview(admin)
    assert _items(html) == ["destinations.dead", "erasure.verified", "syncs.held"]


def test_upcoming_access_is_one_line_per_date():
    # given: a new hire whose role gives three capabilities after 30 days
    admin = AdminFactory()
    tenures = {"audit.view": 30, "events.view": 30, "syncs.view": 30}
    newcomer = person_with(admin, *tenures, tenure_days=12, name="Jonas New", tenures=tenures)
    on = TODAY() + dt.timedelta(days=18)
    # when
    html = _overview(newcomer)
    # then
    upcoming = html.split('data-testid="upcoming"', 1)[1].split("</div>\n</div>", 1)[0]
    assert upcoming.count(f"In 18 days (on {on:%Y-%m-%d}):") == 1
    assert "read the audit log" in upcoming
    assert "you will be able to" not in upcoming
    assert "audit.view capability" not in html


def test_recent_changes_say_the_action_in_words_and_leave_out_sign_ins():
    admin = AdminFactory()
    person = UserFactory(full_name="Leo Martins")
    audit_record(action="accounts.assignment.capabilities_withdrawn", target=person)
    audit_record(action="accounts.notification.sent", target=person)
    html = _overview(admin)
    feed = html.split("Recent changes", 1)[1]
    assert "Accounts: assignment capabilities withdrawn" in feed
    assert ">accounts.assignment.capabilities_withdrawn<" not in feed
    assert "notification sent" not in feed
    assert "user logged in" not in feed


def test_the_overview_costs_a_bounded_number_of_queries_with_every_section_shown(
    django_assert_max_num_queries,
):
    from apps.intake.models import Stakeholder

    # given: something waiting in every section, several of each
    admin = AdminFactory()
    SyncRunFactory.create_batch(3)
    SyncRunFactory.create_batch(3, status="failed", finished_at=timezone.now())
    ErasureRequestFactory.create_batch(3)
    ErasureTaskFactory.create_batch(3, assignee=admin, status="manual")
    ErasureTaskFactory.create_batch(3, status="failed")
    for days in (3, 10, 20):
        ToolFactory(renewal_date=TODAY() + dt.timedelta(days=days + 30))
    DeliveryFactory.create_batch(5)
    EventFactory.create_batch(3)
    LinkFactory.create_batch(3)
    for request in IntakeRequestFactory.create_batch(3):
        Stakeholder.objects.create(request=request, person=admin, part="approver")
    client = Client()
    client.force_login(admin)
    client.get("/")  # the session and the capability cache are warm
    # when / then: the whole page, every section included, stays within its budget
    with django_assert_max_num_queries(26) as first:
        html = client.get("/").content.decode()
    assert len(_items(html)) >= 10
    # and twice the data costs not one query more
    SyncRunFactory.create_batch(3)
    ErasureRequestFactory.create_batch(3)
    ErasureTaskFactory.create_batch(3, assignee=admin, status="manual")
    ToolFactory(renewal_date=TODAY() + dt.timedelta(days=35))
    DeliveryFactory.create_batch(5)
    EventFactory.create_batch(3, status="failed")
    for request in IntakeRequestFactory.create_batch(3):
        Stakeholder.objects.create(request=request, person=admin, part="approver")
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get("/")
