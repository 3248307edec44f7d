"""What every benchmark runs on, however it is started (``python -m bench`` runs them all,
``python -m bench.<name>`` one), with nothing to set by hand:

- the test settings (``martech.settings.test``: loopback destinations allowed, and the
  append-only tables may be emptied), whatever ``DJANGO_SETTINGS_MODULE`` says;
- a PostgreSQL database of the benchmarks' own: ``DATABASE_URL`` when set, else
  ``postgres://postgres@127.0.0.1:5432/martech_bench``; created if missing and migrated. The
  benchmarks empty tables there and fill them, so it is never the console's;
- a Redis database of their own for the cache and the broker, ``BENCH_REDIS_URL`` (default
  ``redis://127.0.0.1:6379/15``), emptied when a benchmark starts. The tests count their
  databases down from 14 (14 and 13, then 12 and 11 for a second pytest-xdist process, and so
  on), so 15 is never one of theirs;
- ``--quick`` on the command line (or ``BENCH_QUICK=1``): small sizes, each benchmark's own,
  for a run that shows the benchmarks work rather than one that measures. A size set in the
  environment (``BENCH_DELIVERY_EVENTS=...``) still wins.
"""

from __future__ import annotations

import os
import sys

SETTINGS = "martech.settings.test"
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/martech_bench"
REDIS_URL = "redis://127.0.0.1:6379/15"

QUICK = "--quick" in sys.argv or os.environ.get("BENCH_QUICK", "") not in ("", "0")

_ready = False


def size(name: str, default: int, quick: int) -> int:
    """The size ``name`` in the environment, else ``quick`` under ``--quick``, else ``default``."""
    return int(os.environ.get(name) or (quick if QUICK else default))


def redis_urls() -> dict[str, str]:
    """The settings' Redis variables, both on ``BENCH_REDIS_URL``'s database (django-environ
    reads a ``redis://`` URL as a Redis cache)."""
    url = os.environ.get("BENCH_REDIS_URL") or REDIS_URL
    return {"CELERY_BROKER_URL": url, "DJANGO_CACHE_URL": url}


def environ() -> None:
    """Point this process (and those it starts) at the benchmarks' settings, database and Redis."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ["DATABASE_URL"] = os.environ.get("DATABASE_URL") or DATABASE_URL
    os.environ.update(redis_urls())


def setup() -> None:
    """Set up Django on the benchmarks' database (created if missing, and migrated: once per
    process) and empty their Redis database. Each benchmark's ``main`` calls it first."""
    global _ready
    if not _ready:
        _database()
        _ready = True
    from django.core.cache import cache

    # The cache and the broker share the benchmarks' own Redis database: what an earlier run
    # left there (cached objects of rows since deleted, tasks nobody took) goes.
    cache.clear()


def _database() -> None:
    environ()
    import django
    import psycopg

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit(f"The benchmarks run on PostgreSQL; DATABASE_URL names {db['ENGINE']}.")
    admin = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
    if not exists:
        admin.execute(f'CREATE DATABASE "{db["NAME"]}"')
    admin.close()
    call_command("migrate", verbosity=0, interactive=False)
