"""Command lines of the console's own processes, shared by the embedded runner and tests."""

import sys

from django.conf import settings


def queue_names() -> str:
    """Return every queue the console declares, comma-separated, for ``celery worker -Q``."""
    return ",".join(queue.name for queue in settings.CELERY_TASK_QUEUES)


def celery_worker_argv(hostname: str, *extra: str) -> list[str]:
    """Return the argv of a Celery worker that consumes every queue, one task at a time."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "martech",
        "worker",
        "-Q",
        queue_names(),
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--hostname",
        hostname,
        *extra,
    ]
