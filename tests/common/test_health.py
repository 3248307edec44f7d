"""Liveness and readiness probes."""

import logging

import pytest
from django.db import connection

from martech.celery import app as celery_app


def test_healthz_answers_without_touching_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_and_redis_broker_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["broker"]["transport"] == "redis"


@pytest.mark.django_db
def test_readyz_names_the_unreachable_broker_with_503(client, monkeypatch):
    unreachable = "redis://:s3cret-pass@127.0.0.1:1/0"
    original = celery_app.conf.broker_url
    # Celery prefers the environment variable over its configuration; set both.
    monkeypatch.setenv("CELERY_BROKER_URL", unreachable)
    celery_app.conf.broker_url = unreachable
    try:
        response = client.get("/readyz")
    finally:
        celery_app.conf.broker_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert body["message"] == "Not ready: broker unreachable"
    assert body["checks"]["broker"] == {"ok": False}
    assert "s3cret-pass" not in response.content.decode()


@pytest.mark.django_db
def test_probes_answer_any_host_header_and_plain_http(client, settings):
    settings.ALLOWED_HOSTS = ["console.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get("/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400


def test_readyz_names_the_unreachable_database_and_logs_the_details_only(
    client, django_db_blocker, caplog
):
    # given a database that does not answer (a port nothing listens on)
    port = connection.settings_dict["PORT"]
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict["PORT"] = "5999"
        try:
            # when a caller asks whether the console is ready
            with caplog.at_level(logging.WARNING, logger="martech.common.health"):
                response = client.get("/readyz", HTTP_HOST="evil.example")
        finally:
            connection.close()
            connection.settings_dict["PORT"] = port
    # then it is told which check failed, and nothing about it: that is in the log
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {"ok": False}
    assert body["message"] == "Not ready: database unreachable"
    assert "5999" not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()
    assert any("5999" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_readyz_names_the_unreachable_cache_without_its_address(client, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://:cache-s3cret@127.0.0.1:1/0",
        }
    }
    with caplog.at_level(logging.WARNING, logger="martech.common.health"):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["cache"] == {"ok": False}
    assert body["message"] == "Not ready: cache unreachable"
    assert "cache-s3cret" not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()
    assert any(r.name == "martech.common.health" for r in caplog.records)
