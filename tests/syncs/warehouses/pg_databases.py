"""PostgreSQL databases as a company's warehouse would be: a database of its own on the local
server, owned by a role that may create schemas and tables in it but is no superuser, made
for one test and dropped after it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection

LOADER = "martech_test_loader"


def _server(dbname: str) -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{dbname}"


@contextmanager
def company_database(suffix: str = "warehouse") -> Iterator[dict]:
    """A fresh database named after the test database (so that two test runs do not meet),
    yielding ``dsn`` (as the loading role), ``admin`` (the server's own role, to read back)
    and ``name``."""
    name = f"{connection.settings_dict['NAME']}_{suffix}"[:63]
    with psycopg.connect(_server("postgres"), autocommit=True) as admin:
        with contextlib.suppress(psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            admin.execute(f"CREATE ROLE {LOADER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" OWNER {LOADER}')
    db = connection.settings_dict
    try:
        yield {
            "name": name,
            "dsn": f"postgresql://{LOADER}@{db['HOST']}:{db['PORT'] or 5432}/{name}",
            "admin": _server(name),
        }
    finally:
        with psycopg.connect(_server("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def read(database: dict, sql: str, params=None) -> list[tuple]:
    with psycopg.connect(database["admin"]) as conn:
        return conn.execute(sql, params).fetchall()
