"""The daily recompute and the hourly housekeeping, run by a real Celery worker on Redis."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.access import services as svc
from apps.access.models import AccessAssignment, Grant
from apps.access.tasks import access_housekeeping_task, access_recompute_all_task
from apps.accounts.models import User
from apps.audit.models import AuditEvent
from tests.factories import AdminFactory, UserFactory
from tests.workers import start_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_grants_reached_tenure_and_revokes_expired_access(worker_env):
    # given: one person a day short of the tenure a role needs
    su = AdminFactory()
    role = svc.role_create(actor=su, name="Auditors", owner=su)
    svc.role_capability_set(actor=su, role=role, capability="audit.view", min_tenure_days=90)
    newcomer = UserFactory(start_date=timezone.localdate() - dt.timedelta(days=89))
    svc.role_assign(actor=su, user=newcomer, role=role)
    assert not Grant.objects.filter(user=newcomer).exists()
    # and one person whose time-bound access has run out
    veteran = UserFactory(start_date=timezone.localdate() - dt.timedelta(days=900))
    assignment = svc.role_assign(
        actor=su, user=veteran, role=role, ends_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert Grant.objects.effective().filter(user=veteran).exists()
    # when a day passes (the start date moves back a day) and the access end passes
    User.objects.filter(pk=newcomer.pk).update(
        start_date=timezone.localdate() - dt.timedelta(days=90)
    )
    AccessAssignment.objects.filter(pk=assignment.pk).update(
        ends_at=timezone.now() - dt.timedelta(seconds=1)
    )
    access_recompute_all_task.delay()
    access_housekeeping_task.delay()
    worker = start_worker(worker_env)
    try:
        granted = wait_until(
            lambda: Grant.objects.effective().filter(user=newcomer, capability="audit.view").first()
        )
        revoked = wait_until(
            lambda: Grant.objects.filter(user=veteran, revoked_at__isnull=False).first()
        )
    finally:
        worker.stop()
    # then
    assert "tenure 90 days reached on" in granted.reason
    assert revoked.revoke_reason == "time-bound access ended"
    events = AuditEvent.objects.filter(
        action__in=["accounts.grant.granted", "accounts.grant.revoked"]
    )
    by_task = events.filter(actor__isnull=True, actor_label__startswith="task:accounts.")
    assert by_task.filter(action="accounts.grant.granted").exists()
    assert by_task.filter(action="accounts.grant.revoked").exists()
