"""Two pipeline processes at once, as a Celery worker of concurrency two runs them, on batches
whose sign-ins join visitors the other process is handling: no deadlock, nothing failed, and
every visitor who signed in is one profile."""

import logging
import multiprocessing

import pytest
from django.db import connections
from django.utils import timezone

from apps.consent.defaults import ensure_default_purposes
from apps.events.models import Event
from apps.events.services import source_create
from apps.identity.models import Identifier, Merge
from tests.factories import AdminFactory

VISITORS = 300
EVENTS = 3000
SIGN_IN = 10  # one event in this many is a sign-in
BATCH = 100


def _sign_in(n, visitor, now):
    return Event(
        source_id=None,
        message_id=f"s-{n}",
        type="identify",
        anonymous_id=f"ajs-{visitor}",
        user_id=f"user-{visitor}",
        payload={
            "type": "identify",
            "userId": f"user-{visitor}",
            "anonymousId": f"ajs-{visitor}",
            "traits": {"email": f"p{visitor}@acme.example"},
        },
        timestamp=now,
        received_at=now,
    )


def _events(source):
    """First two batches (one for each process) sign in the same new visitors in opposite
    orders; then page views with sign-ins of visitors seen earlier, maybe by the other."""
    now = timezone.now()
    mirrored = list(range(BATCH)) + list(reversed(range(BATCH)))
    for n, visitor in enumerate(mirrored):
        yield _sign_in(f"m{n}", visitor, now)
    for n in range(EVENTS - len(mirrored)):
        visitor = n % VISITORS
        if n % SIGN_IN == 0:  # a visitor seen earlier, possibly in the other process's batch
            yield _sign_in(n, n // SIGN_IN % VISITORS, now)
            continue
        url = f"https://www.acme.example/p/{n}?utm_source=news&utm_medium=email"
        yield Event(
            source_id=None,
            message_id=f"v-{n}",
            type="page",
            anonymous_id=f"ajs-{visitor}",
            payload={
                "type": "page",
                "anonymousId": f"ajs-{visitor}",
                "context": {"page": {"url": url}},
            },
            timestamp=now,
            received_at=now,
        )


def _drain(_) -> tuple[int, int]:
    """One process's share: (events processed, errors the pipeline logged)."""
    from apps.events.pipeline import process_waiting

    errors = []

    class Count(logging.Handler):
        def emit(self, record):
            errors.append(record.getMessage())

    logging.getLogger("apps.events.pipeline").addHandler(Count(level=logging.ERROR))
    done = 0
    while taken := process_waiting(limit=BATCH, max_batches=1000):
        done += taken
    connections.close_all()
    return done, len(errors)


@pytest.mark.django_db(transaction=True)
def test_two_processes_signing_in_each_others_visitors_never_deadlock():
    ensure_default_purposes()
    source, _ = source_create(actor=AdminFactory(), name="Web")
    events = list(_events(source))
    for event in events:
        event.source = source
    Event.objects.bulk_create(events, batch_size=1000)
    connections.close_all()  # each forked process opens its own
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_drain, range(2))
    assert sum(done for done, _ in results) == EVENTS
    assert [errors for _, errors in results] == [0, 0]  # no batch fell back, no event failed
    assert set(Event.objects.values_list("status", flat=True)) == {"processed"}
    assert set(Event.objects.values_list("attempts", flat=True)) == {1}
    signed_in = set(range(BATCH)) | {
        n // SIGN_IN % VISITORS for n in range(0, EVENTS - 2 * BATCH, SIGN_IN)
    }
    for visitor in signed_in:  # the cookie, the user id and the email: one profile
        profiles = set(
            Identifier.objects.filter(
                value__in=[f"ajs-{visitor}", f"user-{visitor}", f"p{visitor}@acme.example"]
            ).values_list("profile_id", flat=True)
        )
        assert len(profiles) == 1, visitor
    assert Merge.objects.count() >= len(signed_in)
