"""Liveness and readiness probes."""

import pytest

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
    assert "s3cret-pass" not in response.content.decode()


@pytest.mark.django_db
def test_probes_answer_any_host_header_and_plain_http(client, settings):
    settings.ALLOWED_HOSTS = ["console.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get("/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400
