"""Each activation view belongs to the app whose tables it reads: events, identity and consent
create their own views by their own migrations, and syncs keeps the schema, the role and its
grants. A database migrated when syncs created every view ends exactly like a fresh one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.syncs.selectors import activation_role
from apps.syncs.warehouses import activation

ROOT = Path(__file__).resolve().parents[2]
OWNERS = ("events", "identity", "consent")
BEFORE = Path(__file__).with_name("activation_views_before.sql")


def _tables_of(*labels: str) -> dict[str, str]:
    """Each table of these apps' models (many-to-many tables too), with its app."""
    return {
        model._meta.db_table: model._meta.app_label
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in labels
    }


def _naming(text: str, tables: dict[str, str]) -> list[str]:
    return sorted(t for t in tables if re.search(rf"(?<!\w){re.escape(t)}\b", text))


def test_no_syncs_module_or_migration_names_a_table_of_events_identity_or_consent():
    tables = _tables_of(*OWNERS)
    assert {"events_event", "identity_profile", "consent_consentrecord"} <= set(tables)
    named = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / "apps" / "syncs").rglob("*.py"))
        if (found := _naming(path.read_text(), tables))
    }
    assert named == {}


def test_each_apps_activation_migrations_name_only_its_own_tables():
    tables = _tables_of(*{m._meta.app_label for m in apps.get_models()})
    for app in OWNERS:
        for path in sorted((ROOT / "apps" / app / "migrations").glob("*.py")):
            text = path.read_text()
            if "activation." not in text:
                continue
            others = {t: label for t, label in tables.items() if label != app}
            assert _naming(text, others) == [], path.name


def test_the_schema_migration_of_syncs_depends_on_no_app_that_publishes_a_view():
    graph = MigrationExecutor(connection).loader.graph
    parents = graph.node_map[("syncs", "0004_activation_views")].parents
    assert {label for label, _ in parents} == {"syncs"}
    # and each view's migration comes after the schema and the views it reads
    published = {
        ("events", "0006_activation_events"),
        ("identity", "0004_activation_identity_views"),
        ("identity", "0005_activation_profiles"),
        ("consent", "0005_activation_consent"),
    }
    for node in published:
        assert ("syncs", "0004_activation_views") in graph.forwards_plan(node), node
    assert ("identity", "0004_activation_identity_views") in graph.forwards_plan(
        ("events", "0006_activation_events")
    )
    assert ("events", "0006_activation_events") in graph.forwards_plan(
        ("identity", "0005_activation_profiles")
    )


# -- PostgreSQL ----------------------------------------------------------------------------


def _state() -> dict:
    """Schema activation as the catalog has it: each view's definition, owner and grants,
    the schema's grants and its default privileges."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relkind, pg_get_viewdef(c.oid), pg_get_userbyid(c.relowner), "
            "ARRAY(SELECT a::text FROM unnest(c.relacl) a ORDER BY 1) "
            "FROM pg_class c WHERE c.relnamespace = 'activation'::regnamespace ORDER BY 1"
        )
        views = cursor.fetchall()
        cursor.execute(
            "SELECT ARRAY(SELECT a::text FROM unnest(n.nspacl) a ORDER BY 1) FROM pg_namespace n "
            "WHERE n.nspname = 'activation'"
        )
        schema = cursor.fetchall()
        cursor.execute(
            "SELECT pg_get_userbyid(d.defaclrole), d.defaclobjtype, "
            "ARRAY(SELECT a::text FROM unnest(d.defaclacl) a ORDER BY 1) FROM pg_default_acl d "
            "WHERE d.defaclnamespace = 'activation'::regnamespace ORDER BY 1, 2"
        )
        defaults = cursor.fetchall()
    return {"views": views, "schema": schema, "defaults": defaults}


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.postgres_only("views, roles and grants")
@pytest.mark.django_db(transaction=True)
def test_a_database_that_had_syncs_create_every_view_ends_like_a_fresh_one():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    role = connection.ops.quote_name(activation_role())
    fresh = _state()
    assert [name for name, *_ in fresh["views"]] == sorted(activation.COLUMNS)

    # when the views' migrations and syncs' schema migration are reversed
    executor = _migrate([("syncs", "0003_syncrow_key_byte_order")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace('activation') IS NULL")
        assert cursor.fetchone() == (True,)  # the schema went with them
        # given the database as syncs.0004 left it when it created every view itself
        cursor.execute(BEFORE.read_text())
        cursor.execute(f"GRANT USAGE ON SCHEMA activation TO {role}")
        cursor.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA activation TO {role}")
    executor.recorder.record_applied("syncs", "0004_activation_views")
    assert [name for name, *_ in _state()["views"]] != sorted(activation.COLUMNS)

    # when it migrates to now
    _migrate(leaves)

    # then its views, their owner, grants and default privileges are a fresh database's
    assert _state() == fresh
