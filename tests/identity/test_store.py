"""The identity store: rows go in as named columns and come back by name, on either engine,
whatever order the columns are given in."""

import datetime as dt
from itertools import repeat

import pytest

from apps.identity import store
from apps.identity.models import Identifier, Link, Profile
from apps.identity.store import TouchChange, Touches

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC)


def test_columns_given_by_name_in_any_order_land_in_the_columns_they_name():
    [profile_id] = store.reserve_ids(Profile, 1)
    store.insert(
        Profile,
        {
            "updated_at": repeat(T0),
            "id": [profile_id],
            "last_touch": repeat({}),
            "state": ["known"],
            "first_touch": [{"channel": "email", "at": T0.isoformat()}],
            "created_at": repeat(T0),
        },
    )
    ids = store.reserve_ids(Identifier, 2)
    store.insert(
        Identifier,
        {
            "value": ["mei@example.com", "u-1"],
            "first_seen": repeat(T0),
            "type": ["email", "user_id"],
            "source": repeat("import\twith a tab"),
            "profile_id": repeat(profile_id),
            "id": ids,
        },
    )
    [link_id] = store.reserve_ids(Link, 1)
    store.insert(
        Link,
        {
            "id": [link_id],
            "b_id": [ids[1]],
            "a_id": [ids[0]],
            "reason": [""],
            "kind": ["deterministic"],
            "status": ["active"],
            "confidence": [1.0],
            "rule": ["login"],
            "source": [""],
            "event_ref": [""],
            "observed_at": [T0],
            "created_at": [T0],
        },
    )

    profile = Profile.objects.get(pk=profile_id)
    assert (profile.state, profile.first_touch, profile.last_touch) == (
        "known",
        {"channel": "email", "at": T0.isoformat()},
        {},
    )
    assert sorted(
        Identifier.objects.filter(profile=profile).values_list("type", "value", "source")
    ) == [
        ("email", "mei@example.com", "import\twith a tab"),
        ("user_id", "u-1", "import\twith a tab"),
    ]
    link = Link.objects.get(pk=link_id)
    assert (link.a_id, link.b_id, link.rule) == (ids[0], ids[1], "login")
    assert store.identifier_lookup([("email", "mei@example.com"), ("email", "nobody@x")]) == {
        ("email", "mei@example.com"): ids[0]
    }
    assert store.identifier_lookup([("user_id", "u-1")], "profile_id") == {
        ("user_id", "u-1"): profile_id
    }


def test_touches_are_read_and_written_by_name():
    first = {"channel": "email", "at": T0.isoformat()}
    bare = Profile.objects.create()
    touched = Profile.objects.create(first_touch=first)

    held = store.touches_hold([touched.pk, bare.pk])

    assert held == [
        Touches(id=bare.pk, no_first=True, first_at="", no_last=True, last_at=""),
        Touches(id=touched.pk, no_first=False, first_at=T0.isoformat(), no_last=True, last_at=""),
    ]

    # when: one profile gets a last touch only, the other a first touch only
    last = {"channel": "paid", "at": (T0 + dt.timedelta(days=1)).isoformat()}
    store.touches_write(
        [
            TouchChange(id=touched.pk, first=None, last=last),
            TouchChange(id=bare.pk, first=last, last=None),
        ],
        at=T0,
    )

    touched.refresh_from_db()
    bare.refresh_from_db()
    assert (touched.first_touch, touched.last_touch) == (first, last)
    assert (bare.first_touch, bare.last_touch) == (last, {})
    assert touched.updated_at == T0
