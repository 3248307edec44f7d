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
def test_readyz_names_the_unreachable_broker_with_503(client):
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://:s3cret-pass@127.0.0.1:1/0"
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
