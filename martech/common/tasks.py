"""The base class of every Celery task in the console."""

from celery.contrib.django.task import DjangoTask

from . import context


class ContextTask(DjangoTask):
    """Run a task as the system actor ``task:<name>``, under the request id that queued it.

    Subclasses get ``delay_on_commit``/``apply_async_on_commit`` from ``DjangoTask``: the
    console enqueues work only after the transaction that made it has committed.
    """

    def __call__(self, *args, **kwargs):
        request_id = getattr(self.request, "martech_request_id", None) or context.new_request_id()
        with context.acting(
            request_id=request_id, ip_address=None, user=None, system_actor=f"task:{self.name}"
        ):
            return super().__call__(*args, **kwargs)
