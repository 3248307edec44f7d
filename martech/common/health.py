"""Liveness and readiness probes."""

import time

from django.db import connection
from django.http import JsonResponse

from martech.celery import app as celery_app

from .logging import redact


def healthz(request):
    """Answer 200 while the process is alive; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": redact(f"{type(exc).__name__}: {exc}")[:300]}
    return {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def _check_broker() -> dict:
    started = time.monotonic()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
            transport = conn.transport_cls
    except Exception as exc:
        return {"ok": False, "error": redact(f"{type(exc).__name__}: {exc}")[:300]}
    return {
        "ok": True,
        "transport": str(transport),
        "latency_ms": round((time.monotonic() - started) * 1000, 1),
    }


def readyz(request):
    """Answer 200 when the database and the broker answer, 503 with what failed otherwise."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    ready = all(check["ok"] for check in checks.values())
    failing = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    if failing:
        body["message"] = "Not ready: " + ", ".join(f"{name} unreachable" for name in failing)
    return JsonResponse(body, status=200 if ready else 503)
