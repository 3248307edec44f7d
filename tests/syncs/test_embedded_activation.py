"""The embedded mode (SQLite, ``make run``): a model on the console's database reads the same
activation views, written the same way, and the parser and the read-only connection keep it
to them. Run in a process of its own with the embedded settings and the demo data."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.workers import ROOT

pytestmark = pytest.mark.slow

SAME_SQL = [
    "SELECT e.event_id, e.name, e.user_id, e.page_path, e.channel FROM activation.events e "
    "WHERE e.type = 'page' ORDER BY e.event_id",
    "SELECT p.profile_id, p.status, p.email, p.traits ->> 'plan' AS plan, "
    "p.last_touch_channel FROM activation.profiles p WHERE p.email IS NOT NULL",
    "SELECT i.type, count(*) AS n FROM identifiers i GROUP BY i.type",
    "WITH c AS (SELECT * FROM activation.consent) SELECT purpose, count(*) AS n FROM c "
    "GROUP BY purpose",
]
REFUSED = [
    "SELECT session_key AS id, session_data FROM django_session",
    "SELECT id, password FROM main.accounts_user",
    "SELECT name, sql FROM sqlite_master",
    "SELECT * FROM pragma_table_info('accounts_user')",
    "SELECT e.event_id FROM activation.events e WHERE EXISTS (SELECT 1 FROM events_writekey)",
    "WITH t AS (SELECT * FROM accounts_user), accounts_user AS (SELECT 1 AS id) SELECT * FROM t",
    "SELECT * FROM temp.events",
]
# Sent straight to the connection the models use: the engine itself refuses them.
DENIED = [
    "SELECT session_key, session_data FROM django_session",
    "SELECT password FROM main.accounts_user",
    "SELECT sql FROM sqlite_master",
    "WITH t AS (SELECT * FROM accounts_user) SELECT * FROM t",
    # a CTE named like a view is not the view
    "WITH events AS (SELECT session_key FROM django_session) SELECT * FROM events",
    "WITH events_1 AS (SELECT id, password FROM accounts_user) SELECT * FROM events_1",
    "PRAGMA table_info(accounts_user)",
    "ATTACH DATABASE ':memory:' AS x",
]

SCRIPT = """
import json, sqlite3
from django.core.management import call_command
from rest_framework.test import APIClient
from apps.accounts.models import User
from apps.syncs.engine import warehouse as engine
from apps.syncs.warehouses import activation
from apps.syncs.models import SqlModel, Sync, Warehouse
from martech.common.errors import ApplicationError

call_command("load_demo")
given = json.loads(INPUT)
console = Warehouse.objects.get(kind="console")
out = {"demo": {}, "views": {}, "same": [], "refused": {}, "denied": {}, "api": []}
for model in SqlModel.objects.filter(warehouse=console):
    shown = engine.preview(console, model.sql)
    out["demo"][model.name] = [[str(v) for v in row] for row in shown.rows]
for view in activation.COLUMNS:
    shown = engine.preview(console, f"SELECT * FROM activation.{view}")
    out["views"][view] = [[c["name"] for c in shown.columns], len(shown.rows)]
for sql in given["same"]:
    out["same"].append(len(engine.preview(console, sql).rows))
for sql in given["refused"]:
    try:
        engine.preview(console, sql)
        out["refused"][sql] = "shown"
    except ApplicationError as exc:
        out["refused"][sql] = exc.code
for sql in given["denied"]:
    with engine.reading(console) as conn:
        try:
            conn.execute(sql).fetchall()
            out["denied"][sql] = "read"
        except sqlite3.DatabaseError as exc:
            out["denied"][sql] = str(exc)
api = APIClient(HTTP_HOST="127.0.0.1")
api.force_authenticate(User.objects.filter(is_superuser=True).first())
for sql in given["refused"][:2] + given["same"][:1]:
    answer = api.post("/api/v1/models/", {"name": sql[:60], "warehouse": console.pk,
                                          "sql": sql, "primary_key": "event_id"},
                      format="json")
    out["api"].append([answer.status_code, answer.json().get("code")])
braze = Sync.objects.get(name="Customers to Braze").runs.get()
out["braze"] = [braze.status, braze.total]
print("RESULT" + json.dumps(out))
"""


def test_the_embedded_console_reads_the_activation_views_and_nothing_else(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "MARTECH_", "PYTEST_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="martech.settings.local",
        MARTECH_VAR_DIR=str(tmp_path),
        INPUT=json.dumps({"same": SAME_SQL, "refused": REFUSED, "denied": DENIED}),
    )

    def manage(*args):
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "--noinput")
    printed = manage(
        "shell", "--no-imports", "-c", "import os; INPUT = os.environ['INPUT']\n" + SCRIPT
    )
    out = json.loads(printed.split("RESULT", 1)[1])

    # the demo's models preview believable rows from the views
    customers, emails = out["demo"]["Customers with orders"], out["demo"]["Known email addresses"]
    assert customers
    assert all(row[0] for row in customers)
    assert emails
    assert all("@" in row[0] for row in emails)
    assert out["braze"][0] == "approval"
    assert out["braze"][1] >= 1
    # every view has the columns PostgreSQL's has, and rows
    from apps.syncs.warehouses.activation import COLUMNS

    for view, columns in COLUMNS.items():
        assert out["views"][view][0] == list(columns), view
    assert out["views"]["events"][1] > 0
    assert out["views"]["profiles"][1] > 0
    # the SQL written for PostgreSQL runs unchanged
    assert all(n > 0 for n in out["same"]), out["same"]
    # anything else is a 400 from the parser, and the connection itself refuses it
    assert out["refused"] == dict.fromkeys(REFUSED, "invalid_sql")
    for sql, said in out["denied"].items():
        assert "authorized" in said or "prohibited" in said, (sql, said)
    assert out["api"] == [[400, "invalid_sql"], [400, "invalid_sql"], [201, None]]
