"""A deferred request's revisit date sends a reminder, on the day, once, through the worker."""

import datetime as dt

import pytest
import time_machine

from apps.accounts.models import Notification
from apps.intake import services
from apps.intake.tasks import revisit_reminders_task
from tests.intake.conftest import request_at
from tests.workers import start_worker, wait_until

DEFERRED_ON = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
REVISIT = dt.date(2027, 4, 15)


def _deferred(cast):
    with time_machine.travel(DEFERRED_ON, tick=False):
        req = request_at(cast, "decision", approvers=[cast.alice])
        services.intake_defer(actor=cast.alice, request=req, revisit_on=REVISIT, comment="Q2.")
    return req


def _reminders(person):
    return Notification.objects.filter(user=person, title__startswith="Time to revisit")


@pytest.mark.django_db
def test_the_reminder_goes_to_requester_and_approvers_on_the_revisit_day_only(cast):
    req = _deferred(cast)
    sent = {}
    for offset in (-1, 0, 1, 2):
        day = REVISIT + dt.timedelta(days=offset)
        with time_machine.travel(dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC), tick=False):
            sent[offset] = services.revisit_reminders_send()
    assert sent == {-1: 0, 0: 2, 1: 0, 2: 0}
    for person in (cast.requester, cast.alice):
        (reminder,) = _reminders(person)
        assert reminder.title == f"Time to revisit: {req.title}"
        assert "deferred until 2027-04-15: Q2." in reminder.body
        assert reminder.url == f"/intake/{req.pk}/"
    assert _reminders(cast.bob).count() == 0  # not an approver of this request
    assert req.history.filter(kind="reminder").count() == 1


@pytest.mark.django_db
def test_a_missed_day_is_caught_up_and_a_reopened_request_is_not_reminded(cast):
    req = _deferred(cast)
    assert services.revisit_reminders_send(today=REVISIT + dt.timedelta(days=3)) == 2
    other = _deferred(cast)
    services.intake_reopen(actor=cast.requester, request=other)
    assert services.revisit_reminders_send(today=REVISIT + dt.timedelta(days=4)) == 0
    assert _reminders(cast.requester).count() == 1
    assert req.pk != other.pk


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_and_emails_the_reminder_on_the_revisit_day(cast, worker_env):
    _deferred(cast)
    revisit_reminders_task.delay(as_of=(REVISIT - dt.timedelta(days=1)).isoformat())
    revisit_reminders_task.delay(as_of=REVISIT.isoformat())
    worker = start_worker(worker_env)
    try:
        reminder = wait_until(
            lambda: _reminders(cast.requester).filter(emailed_at__isnull=False).first()
        )
    finally:
        worker.stop()
    assert reminder.dedupe_key.endswith(f":2027-04-15:{cast.requester.pk}")
    assert _reminders(cast.requester).count() == 1
