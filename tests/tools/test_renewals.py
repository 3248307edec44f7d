"""Renewal notices reach owners 90, 60 and 30 days before the notice deadline, once each."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from apps.accounts.models import Notification
from apps.tools.renewals import renewal_calendar, renewal_notices_send
from apps.tools.services import tool_create
from apps.tools.tasks import renewal_notices_task
from tests.factories import UserFactory
from tests.workers import start_worker, wait_until

RENEWAL = dt.date(2027, 3, 31)
DEADLINE = dt.date(2027, 1, 30)  # 60 days' notice


def _braze(admin, owner):
    return tool_create(
        actor=admin,
        name="Braze",
        vendor="Braze",
        category="Messaging",
        business_owner=owner,
        annual_cost=Decimal("96000"),
        seats_bought=25,
        seats_used=9,
        renewal_date=RENEWAL,
        notice_period_days=60,
    )


@pytest.mark.django_db
def test_owner_is_notified_on_the_90th_60th_and_30th_day_only(
    admin, django_capture_on_commit_callbacks
):
    owner = UserFactory(full_name="Sam Okafor")
    _braze(admin, owner)
    sent_on = {}
    day = DEADLINE - dt.timedelta(days=100)
    while day <= DEADLINE:
        with (
            time_machine.travel(dt.datetime.combine(day, dt.time(8)), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            count = renewal_notices_send()
        if count:
            sent_on[(DEADLINE - day).days] = count
        day += dt.timedelta(days=1)
    assert sent_on == {90: 1, 60: 1, 30: 1}
    titles = list(Notification.objects.filter(user=owner).values_list("title", flat=True))
    assert "Braze: give notice by 2027-01-30 (30 days)" in titles
    assert len(mail.outbox) == 3
    assert "Seats: 9 of 25 used (36%)" in mail.outbox[0].body
    assert mail.outbox[0].to == [owner.email]


@pytest.mark.django_db
def test_a_missed_day_is_caught_up_with_the_notice_then_due(admin):
    owner = UserFactory()
    _braze(admin, owner)
    assert renewal_notices_send(today=DEADLINE - dt.timedelta(days=58)) == 1
    assert renewal_notices_send(today=DEADLINE - dt.timedelta(days=57)) == 0
    assert Notification.objects.get().dedupe_key.endswith(":60")


@pytest.mark.django_db
def test_retired_tools_and_passed_deadlines_send_nothing(admin):
    owner = UserFactory()
    tool = _braze(admin, owner)
    assert renewal_notices_send(today=DEADLINE + dt.timedelta(days=1)) == 0
    tool.status = "retired"
    tool.save()
    assert renewal_notices_send(today=DEADLINE - dt.timedelta(days=30)) == 0


@pytest.mark.django_db
def test_calendar_lists_renewals_by_notice_deadline_with_seat_use(admin, admin_client):
    owner = UserFactory()
    _braze(admin, owner)
    with time_machine.travel(dt.datetime(2026, 12, 1, 9), tick=False):
        entries = renewal_calendar(user=admin)
        admin_client.force_login(admin)  # a session from the real "now" is long idle here
        page = admin_client.get(reverse("tools:renewals"))
    assert [(e.tool.name, e.notice_deadline, e.days_to_notice) for e in entries] == [
        ("Braze", DEADLINE, 60)
    ]
    assert b"Notice due in January 2027" in page.content
    assert b"(36%)" in page.content


@pytest.mark.django_db
def test_notifications_page_lists_and_marks_read(user_client, user):
    from apps.accounts.notifications import notify

    notify(user=user, title="Braze: give notice", body="x", dedupe_key="k", email=False)
    page = user_client.get(reverse("accounts:notification_list"))
    assert b"Braze: give notice" in page.content
    assert page.context["unread_notifications"] == 1
    user_client.post(reverse("accounts:notifications_read_all"))
    assert user_client.get(reverse("dashboard")).context["unread_notifications"] == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_sends_the_notice_due_on_the_day_and_emails_it(admin, worker_env):
    owner = UserFactory()
    _braze(admin, owner)
    renewal_notices_task.delay(as_of=(DEADLINE - dt.timedelta(days=30)).isoformat())
    worker = start_worker(worker_env)
    try:
        notification = wait_until(
            lambda: Notification.objects.filter(user=owner, emailed_at__isnull=False).first()
        )
    finally:
        worker.stop()
    assert notification.title == "Braze: give notice by 2027-01-30 (30 days)"
    assert notification.dedupe_key.endswith(":30")
