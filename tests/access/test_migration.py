"""Moving roles, trainings, grants, requests and reviews out of accounts keeps the database as
it is: a database migrated before the move runs no schema SQL to get past it, its rows are
the new app's rows, and audit history stays attached to them."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from apps.access.models import Role
from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_history_for
from tests.factories import AdminFactory

BEFORE = [("accounts", "0004_review_exclusions"), ("access", None)]
DDL = ("CREATE ", "ALTER ", "DROP ", "RENAME ")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return executor


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_migrates_with_no_schema_change_and_keeps_history():
    # given: the database as it was before access had its own app, with a role and its audit
    leaves = _leaves()
    state = _migrate(BEFORE).loader.project_state(BEFORE[:1]).apps
    admin = AdminFactory()
    old_role_model = state.get_model("accounts", "Role")
    old_type = state.get_model("contenttypes", "ContentType")
    role = old_role_model.objects.create(name="Analysts", owner_id=admin.pk)
    role_type = old_type.objects.get_or_create(app_label="accounts", model="role")[0]
    AuditEvent.objects.create(
        action="accounts.role.created",
        actor_label="before the move",
        target_type_id=role_type.pk,
        target_id=str(role.pk),
    )

    # when: it migrates to now
    with CaptureQueriesContext(connection) as queries:
        _migrate(leaves)

    # then: no table was created, altered, renamed or dropped
    schema = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(DDL)]
    assert schema == []
    # the row is the new app's row, and its history follows it
    moved = Role.objects.get(pk=role.pk)
    assert moved.name == "Analysts"
    assert ContentType.objects.get_for_model(Role).pk == role_type.pk
    history = audit_history_for(user=admin, target=moved)
    assert [event.actor_label for event in history] == ["before the move"]
