"""The jobs kernel: Celery configured not to lose work, tasks queued after commit, and a
real worker on Redis running a real task with its audit record."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ApiToken
from apps.accounts.services import api_token_create
from apps.accounts.tasks import api_tokens_purge_expired_task
from apps.audit.models import AuditEvent
from martech.celery import app as celery_app
from martech.common import context
from tests.factories import UserFactory
from tests.workers import start_worker, wait_until


def test_celery_is_configured_not_to_lose_work():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {
        "default",
        "events",
        "deliveries",
        "syncs",
        "erasure",
    }
    assert conf.task_default_queue == "default"
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


def test_every_task_declares_a_known_queue():
    queues = {q.name for q in celery_app.conf.task_queues}
    ours = {n: t for n, t in celery_app.tasks.items() if not n.startswith("celery.")}
    assert ours
    for name, task in ours.items():
        assert task.queue in queues, name


@pytest.mark.django_db(transaction=True)
def test_task_is_queued_only_after_the_transaction_commits(empty_broker):
    # given: a transaction that queues a task with delay_on_commit
    with transaction.atomic():
        api_tokens_purge_expired_task.delay_on_commit()
        # then: nothing is on the broker while the transaction is open
        assert empty_broker.llen("default") == 0
    # and the message is there once it committed
    assert empty_broker.llen("default") == 1


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_queues_nothing(empty_broker):
    @transaction.atomic
    def queue_then_fail():
        api_tokens_purge_expired_task.delay_on_commit()
        raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        queue_then_fail()
    assert empty_broker.llen("default") == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_on_redis_runs_a_task_that_audits_as_the_system(worker_env):
    # given: a token that expired long ago, and a task queued while no worker runs
    user = UserFactory()
    stale, _ = api_token_create(user=user, name="stale", days=5)
    ApiToken.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - dt.timedelta(days=90))
    with context.acting(request_id="queued-by-request-0001"):
        api_tokens_purge_expired_task.delay()
    # when: a worker starts and picks it up from Redis
    worker = start_worker(worker_env)
    try:
        event = wait_until(
            lambda: AuditEvent.objects.filter(action="accounts.api_token.purged").first()
        )
    finally:
        worker.stop()
    # then
    assert not ApiToken.objects.filter(pk=stale.pk).exists()
    assert event.actor is None
    assert event.actor_label == "task:accounts.api_tokens_purge_expired"
    assert event.request_id == "queued-by-request-0001"
    assert "succeeded" in "".join(worker.output)
