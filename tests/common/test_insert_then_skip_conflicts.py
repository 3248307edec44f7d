"""An insert that rarely meets a conflict runs without ON CONFLICT, and again with it only when
it meets one: the rows that conflict are skipped, the others stored; a conflict on another
key than the one named is raised, and the transaction stays usable after the first try."""

import psycopg
import pytest
from django.db import connection

from martech.common.pgcopy import insert_then_skip_conflicts

pytestmark = pytest.mark.django_db

INSERT = "INSERT INTO skip_test (a, b) SELECT * FROM unnest(%s::int[], %s::int[])"
SKIP = " ON CONFLICT (a) DO NOTHING"


@pytest.fixture
def table():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE skip_test (a int UNIQUE, b int UNIQUE)")
        cursor.execute("INSERT INTO skip_test VALUES (1, 10)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE skip_test")


def _rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT a, b FROM skip_test ORDER BY a")
        return cursor.fetchall()


def test_rows_without_a_conflict_go_in_as_they_are(table):
    insert_then_skip_conflicts(
        INSERT, [[2, 3], [20, 30]], on_conflict=SKIP, constraint="skip_test_a_key"
    )
    assert _rows() == [(1, 10), (2, 20), (3, 30)]


def test_a_conflict_on_the_named_key_skips_that_row_and_stores_the_others(table):
    insert_then_skip_conflicts(
        INSERT, [[2, 1, 3], [20, 11, 30]], on_conflict=SKIP, constraint="skip_test_a_key"
    )
    assert _rows() == [(1, 10), (2, 20), (3, 30)]  # the transaction went on after the refusal


def test_a_conflict_on_another_key_is_raised(table):
    with pytest.raises(psycopg.errors.UniqueViolation):
        insert_then_skip_conflicts(
            INSERT, [[2], [10]], on_conflict=SKIP, constraint="skip_test_a_key"
        )
