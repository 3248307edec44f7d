"""The one Celery application of the console.

Configuration comes from Django settings (``CELERY_*``). Tasks live in each app's
``tasks.py``; they are thin (load by id, call a service) and idempotent.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "martech.settings.local")

app = Celery("martech", task_cls="martech.common.tasks:ContextTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.worker_process_init.connect
def _settle_heap(**_kwargs):
    """Keep what a worker loaded out of the garbage collector's way: in the worker before its
    pool starts (forked pool processes inherit the frozen heap, and no collection of theirs
    walks, and so copies, the pages they share with it), and in each pool process for what
    it loaded itself."""
    from martech.common import heap

    heap.settle()


@signals.before_task_publish.connect
def _carry_request_id(headers=None, **_kwargs):
    """Send the current request id with every task so its audit records can be tied back."""
    from martech.common.context import current

    if headers is not None and current().request_id:
        headers.setdefault("martech_request_id", current().request_id)
