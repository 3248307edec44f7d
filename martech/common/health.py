"""Liveness and readiness probes.

Both answer any caller (load balancers use an address for Host), so neither says more than
which check failed: the error of a failing check (a host, a port, a driver's message) goes to
the log only.
"""

import logging
import time

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

from martech.celery import app as celery_app

log = logging.getLogger(__name__)


def healthz(request):
    """Answer 200 while the process is alive; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _broker() -> dict:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
        return {"transport": str(conn.transport_cls)}  # redis, or filesystem when embedded


def _cache() -> dict:
    cache.get("martech:readyz")
    return {}


CHECKS = {"database": _database, "broker": _broker, "cache": _cache}


def _run(name: str, check) -> dict:
    started = time.monotonic()
    try:
        facts = check()
    except Exception as exc:
        # The details are for the operator (the log is redacted), not for the caller.
        log.warning("readyz: the %s check failed: %s: %s", name, type(exc).__name__, exc)
        return {"ok": False}
    return {"ok": True, **facts, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def readyz(request):
    """Answer 200 when the database, the broker and the cache answer; 503 naming the checks
    that failed otherwise (and nothing else about them)."""
    checks = {name: _run(name, check) for name, check in CHECKS.items()}
    failing = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "unavailable" if failing else "ok", "checks": checks}
    if failing:
        body["message"] = "Not ready: " + ", ".join(f"{name} unreachable" for name in failing)
    return JsonResponse(body, status=503 if failing else 200)
