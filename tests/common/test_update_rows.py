"""``update_rows`` writes what ``bulk_update`` would, in one statement on PostgreSQL: each
column with its type, JSON as JSON, and text too long for its column refused, not cut."""

import datetime as dt

import pytest
from django.db import transaction
from psycopg.errors import StringDataRightTruncation

from apps.identity.models import Profile
from martech.common.pgcopy import update_rows


@pytest.mark.django_db
def test_update_rows_writes_each_column_with_its_type():
    a, b, c = Profile.objects.create(), Profile.objects.create(), Profile.objects.create()
    at = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    a.state, a.first_touch, a.updated_at, a.merged_into = "identified", {"at": "x"}, at, None
    b.state, b.first_touch, b.updated_at, b.merged_into = "anonymous", {}, at, a
    update_rows(Profile, [a, b], ["state", "first_touch", "updated_at", "merged_into"])
    rows = {p.pk: p for p in Profile.objects.all()}
    assert (rows[a.pk].state, rows[a.pk].first_touch, rows[a.pk].updated_at) == (
        "identified",
        {"at": "x"},
        at,
    )
    assert (rows[b.pk].merged_into_id, rows[a.pk].merged_into_id) == (a.pk, None)
    assert rows[c.pk].state == c.state  # not in the rows: untouched


@pytest.mark.django_db
def test_update_rows_refuses_text_too_long_for_its_column():
    profile = Profile.objects.create()
    profile.state = "x" * 17  # the column holds 16
    with pytest.raises(StringDataRightTruncation), transaction.atomic():
        update_rows(Profile, [profile], ["state"])
