"""Resolving identifier links into persisted profiles, against a plain in-memory union-find
over the same links, on the same machine in the same run.

The workload: ``BENCH_IDENTITY_LINKS`` links (default 1,000,000) over about 1.15 million
identifiers, shaped like a real stack: visitors' cookies joined to emails, emails to user
ids and devices, phones, a few people with several cookies, and a handful of "hub" values
(a corporate IP, a shared kiosk) that thousands of visitors share. The console's bulk
resolver applies the canonical order and the per-profile limits and writes profiles,
identifiers and links to PostgreSQL; the baseline only unions integers in memory.

Target: within 20x of the baseline; and no hub glues more than the limits allow.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time

from bench._setup import setup, size

N = size("BENCH_IDENTITY_LINKS", 1000000, quick=20000)
ROUNDS = size("BENCH_IDENTITY_ROUNDS", 3, quick=1)
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _workload(n: int, seed: int = 7):
    from apps.identity.engine.bulk import Evidence
    from apps.identity.normalise import Ident

    rng = random.Random(seed)
    hubs = [Ident("custom:ip", f"203.0.113.{i}") for i in range(5)]
    links: list[Evidence] = []
    person = 0
    while len(links) < n:
        person += 1
        cookie = Ident("anonymous_id", f"ajs-{person:08x}")
        email = Ident("email", f"person{person}@example.com")
        user = Ident("user_id", f"cus_{person}")
        at = T0 + dt.timedelta(seconds=person)
        links.append(Evidence(cookie, email, "same_event", at))
        links.append(Evidence(email, user, "login", at + dt.timedelta(minutes=1)))
        roll = rng.random()
        if roll < 0.4:
            links.append(Evidence(user, Ident("device_id", f"dev-{person:08x}"), "identify", at))
        if roll < 0.15:
            links.append(
                Evidence(email, Ident("phone", f"+1415{person % 10_000_000:07d}"), "identify", at)
            )
        if rng.random() < 0.5:  # signed in again from the same browser
            links.append(Evidence(cookie, user, "login", at + dt.timedelta(minutes=5)))
        if roll > 0.97:
            links.append(Evidence(user, Ident("anonymous_id", f"ajs2-{person:08x}"), "login", at))
        if rng.random() < 0.01:
            links.append(Evidence(cookie, rng.choice(hubs), "same_event", at))
    return links[:n]


def _union_find(links) -> float:
    started = time.perf_counter()
    index: dict = {}
    parent: list[int] = []

    def node(key):
        got = index.get(key)
        if got is None:
            got = index[key] = len(parent)
            parent.append(got)
        return got

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for link in links:
        a, b = find(node((link.a.type, link.a.value))), find(node((link.b.type, link.b.value)))
        if a != b:
            parent[b] = a
    return time.perf_counter() - started


def _clear() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE identity_link, identity_merge, identity_identifier, identity_profile "
            "RESTART IDENTITY CASCADE"
        )


def _console(links) -> tuple[float, dict]:
    from django.db import connection, transaction

    from apps.identity.engine.bulk import bulk_link

    _clear()
    started = time.perf_counter()
    with transaction.atomic():
        result = bulk_link(links, source="bench")
        written = time.perf_counter()
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(n) FROM (SELECT count(*) n FROM identity_identifier "
            "WHERE type = 'anonymous_id' GROUP BY profile_id) t"
        )
        largest = cursor.fetchone()[0]
    return elapsed, {
        "result": result,
        "largest_cookie_count": largest,
        "commit": started + elapsed - written,
    }


def _copy_floor() -> float:
    """The database's own floor: the rows the console just wrote, COPYed back into the same
    tables (same keys, indexes and foreign-key checks) in one transaction, timed to commit."""
    from django.db import connection, transaction

    tables = ("identity_profile", "identity_identifier", "identity_link")
    data = {}
    with connection.cursor() as cursor:
        for table in tables:
            with cursor.cursor.copy(f"COPY {table} TO STDOUT (FORMAT BINARY)") as copy:
                data[table] = b"".join(bytes(block) for block in copy)
    _clear()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            with cursor.cursor.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(data[table])
    return time.perf_counter() - started


def main() -> None:
    setup()
    from django.conf import settings

    links = _workload(N)
    identifiers = len(
        {(e.a.type, e.a.value) for e in links} | {(e.b.type, e.b.value) for e in links}
    )
    baseline = [_union_find(links) for _ in range(ROUNDS)]
    console, commits, floors, facts = [], [], [], {}
    for _ in range(ROUNDS):
        elapsed, facts = _console(links)
        console.append(elapsed)
        commits.append(facts["commit"])
        floors.append(_copy_floor())
    base, ours = statistics.median(baseline), statistics.median(console)
    commit, floor = statistics.median(commits), statistics.median(floors)
    result = facts["result"]
    print(
        f"identity resolve: {len(links):,} links over {identifiers:,} identifiers, "
        f"{ROUNDS} rounds, medians"
    )
    print(f"  in-memory union-find      {base:8.2f} s  {len(links) / base:12,.0f} links/s")
    print(f"  console, persisted        {ours:8.2f} s  {len(links) / ours:12,.0f} links/s")
    print(
        f"    of which commit         {commit:8.2f} s  (PostgreSQL checks each new row's "
        f"foreign keys: {commit / base:.1f}x the baseline by itself)"
    )
    print(
        f"  raw COPY of the same rows {floor:8.2f} s  (same tables, keys and checks; "
        f"console / COPY {ours / floor:.2f}x)"
    )
    print(
        f"  ratio                     {ours / base:8.1f}x  (target: at most 20x; "
        f"raw COPY alone {floor / base:.1f}x)"
    )
    print(
        f"  profiles {result.profiles:,}, identifiers {result.identifiers:,}, "
        f"conflicts {result.conflicts:,}"
    )
    limit = settings.IDENTITY_MAX_PER_TYPE
    largest = facts["largest_cookie_count"]
    print(
        f"  most cookies in one profile: {largest} (limit {limit}): "
        f"{'hubs held' if largest <= limit else 'LIMIT BROKEN'}"
    )
    _clear()


if __name__ == "__main__":
    main()
