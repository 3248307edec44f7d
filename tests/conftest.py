"""Shared fixtures: people, signed-in clients and API clients with real tokens."""

import os

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from tests.factories import AdminFactory, UserFactory


def _warehouse_in_postgres(item) -> bool:
    """Whether the test builds a company warehouse inside the test run's own PostgreSQL
    database (the reverse-ETL fixtures)."""
    defined = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    return any(
        fixture.func.__module__ == "tests.syncs.conftest" or name == "warehouse_table"
        for name in ("table", "warehouse", "warehouse_table")
        for fixture in defined.get(name, ())
    )


def pytest_collection_modifyitems(config, items):
    """On SQLite (``DATABASE_URL=sqlite:///...``), tests marked ``postgres_only`` are skipped,
    and so are tests whose warehouse is the test run's PostgreSQL database."""
    if connection.vendor == "postgresql":
        return
    for item in items:
        marker = item.get_closest_marker("postgres_only")
        if marker:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"PostgreSQL only: {reason}".strip(": ")))
        elif _warehouse_in_postgres(item):
            item.add_marker(pytest.mark.skip(reason="warehouse: the PostgreSQL test database"))


@pytest.fixture(autouse=True)
def _own_var_dir(settings, tmp_path):
    """What the console writes under MARTECH_VAR_DIR while it runs (the demo's DuckDB
    lakehouse, warehouse files named by a relative path) goes to the test's own folder: tests
    running at once never share a file that one process at a time may write."""
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the (Redis) cache; each test starts from zero, and so does
    what this process remembers between requests (write keys). The suppression list's memory
    needs no help: it is kept under a generation the cleared cache no longer holds."""
    from apps.events import services
    from apps.schemas.engine import validate

    cache.clear()
    services.forget_write_keys()
    # Plans compiled by an earlier test: on SQLite a rolled-back test's ids come back.
    validate.forget()
    yield
    cache.clear()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def admin(db):
    return AdminFactory()


@pytest.fixture
def user_client(user):
    """A browser session signed in as an ordinary person."""
    signed_in = Client()
    signed_in.force_login(user)
    return signed_in


@pytest.fixture
def admin_client(admin):
    """A browser session signed in as a superuser."""
    signed_in = Client()
    signed_in.force_login(admin)
    return signed_in


def _api_client_for(person) -> APIClient:
    _, raw = api_token_create(user=person, name="test token", days=7)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    api.raw_token = raw
    return api


@pytest.fixture
def api(user):
    """An API client authenticated as an ordinary person with a bearer token."""
    return _api_client_for(user)


@pytest.fixture
def admin_api(admin):
    """An API client authenticated as a superuser with a bearer token."""
    return _api_client_for(admin)


def _broker():
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@pytest.fixture
def empty_broker():
    client = _broker()
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def worker_env(empty_broker):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="martech.settings.test",
        DATABASE_URL=_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
    )
    return env


def _database_url() -> str:
    """The test database's URL, for the processes a test starts (a worker, a shell)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
