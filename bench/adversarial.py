"""Adversarial inputs against plain ones of the same size, through the collection API over
HTTP, the pipeline and ``POST /api/v1/schemas/validate/``, on the same machine in the same
run.

gunicorn serves the console as ``bench/collect_http.py`` starts it. The benchmark's source
follows a tracking plan in flag mode whose event has a pattern with nested quantifiers
(``^(a+)+$``), length limits and an email format. Each message carries six values of
``BENCH_ADVERSARIAL_LENGTH`` characters (four properties, the page URL and the referrer;
default 4,500: a message under the 32 KB a message may hold, 12 to a batch):

- adversarial: ``"a" * n + "!"`` against the pattern (catastrophic for a backtracking
  engine), ``"b" * n`` (no address: the worst case of a backtracking search for one in a
  violation's sample), ``"1" * n + "x"`` (a phone number's shape until its last character),
  ``"a@" + "a." * n`` as the email, and a page URL of one long run of word characters;
- plain: ordinary words of the same lengths in the same fields, which break the same rules,
  so both kinds record the same violations.

Each of ``BENCH_ADVERSARIAL_ROUNDS`` rounds (default 5) sends ``BENCH_ADVERSARIAL_REQUESTS``
batches (default 8) of each kind, drains the pipeline after each kind, and posts as many
single events of each kind to the validate endpoint; which kind goes first alternates. The
medians of each path's time per message are compared.

Target: adversarial / plain at most 3x on each path.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid

import orjson

from bench._setup import setup, size
from bench.collect_http import _drive, _port, _requests, _serve, _Wire

ROUNDS = size("BENCH_ADVERSARIAL_ROUNDS", 5, quick=1)
REQUESTS = size("BENCH_ADVERSARIAL_REQUESTS", 8, quick=2)
LENGTH = size("BENCH_ADVERSARIAL_LENGTH", 4500, quick=4500)
PER_BATCH = 12  # 12 messages of ~30 KB: under the 500 KB a batch may hold
EVENT = "Bench Adversarial Event"
PLAN = "Bench adversarial"
SOURCE = "Bench adversarial"
LABEL = "bench adversarial"  # the API token's name
SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "pattern": "^(a+)+$"},
        "note": {"type": "string", "maxLength": 100},
        "phone": {"type": "string", "maxLength": 100},
        "email": {"type": "string", "format": "email", "maxLength": 100},
    },
}
WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "


def _plain(n: int) -> str:
    return (WORDS * (n // len(WORDS) + 1))[:n]


def _values(kind: str) -> dict:
    n = LENGTH
    if kind == "adversarial":
        return {
            "properties": {
                "code": "a" * (n - 1) + "!",
                "note": "b" * n,
                "phone": "1" * (n - 1) + "x",
                "email": ("a@" + "a." * n)[:n],
            },
            "url": "https://www.acme.example/?" + "a" * (n - 26),
        }
    return {
        "properties": {k: _plain(n) for k in ("code", "note", "phone", "email")},
        "url": "https://www.acme.example/?q=" + _plain(n - 28).replace(" ", "+"),
    }


def _message(kind: str, i: int) -> dict:
    values = _values(kind)
    return {
        "type": "track",
        "event": EVENT,
        "messageId": f"adv-{kind}-{uuid.uuid4().hex}",
        "anonymousId": f"ajs-adv-{i % 50:03d}",
        "timestamp": "2026-11-30T10:00:00Z",
        "properties": values["properties"],
        "context": {
            "page": {"url": values["url"], "referrer": values["url"]},
            "library": {"name": "bench"},
        },
    }


def _batches(kind: str) -> list[bytes]:
    return [
        orjson.dumps({"batch": [_message(kind, r * PER_BATCH + i) for i in range(PER_BATCH)]})
        for r in range(REQUESTS)
    ]


def _plan_and_source():
    """The benchmark's plan, and a fresh source following it in flag mode: (actor, source,
    write key, API token)."""
    from apps.accounts.models import User
    from apps.accounts.services import api_token_create
    from apps.consent.defaults import ensure_default_purposes
    from apps.events.models import Event, Source
    from apps.events.services import source_create
    from apps.schemas import selectors, services
    from apps.schemas.models import EventSchema, TrackingPlan

    ensure_default_purposes()
    actor = User.objects.filter(email="bench@martech.example").first()
    if actor is None:
        actor = User.objects.create_superuser(
            email="bench@martech.example", password=None, full_name="Bench"
        )
    plan = TrackingPlan.objects.filter(name=PLAN).first()
    if plan is None:
        schema = EventSchema.objects.filter(name=EVENT).first() or services.schema_create(
            actor=actor,
            name=EVENT,
            json_schema=SCHEMA,
            fields={name: {"purpose": "benchmark"} for name in SCHEMA["properties"]},
        )
        version = selectors.latest_published(schema) or services.version_publish(
            actor=actor, version=selectors.current_draft(schema)
        )
        plan = services.plan_create(actor=actor, name=PLAN, versions=[version])
    Event.objects.filter(source__name=SOURCE).delete()
    Source.objects.filter(name=SOURCE).delete()
    source, key = source_create(actor=actor, name=SOURCE, rate_limit=100_000)
    Source.objects.filter(pk=source.pk).update(plan=plan, enforcement="flag")
    _, token = api_token_create(user=actor, name=LABEL, days=1)
    return plan, source, key, token


def _clean() -> None:
    """Take away what a run made: the source's events, the source, the API token, the plan and
    its schema."""
    from apps.accounts.models import ApiToken
    from apps.events.models import Event, Source
    from apps.schemas.models import EventSchema, TrackingPlan

    Event.objects.filter(source__name=SOURCE).delete()
    Source.objects.filter(name=SOURCE).delete()
    ApiToken.objects.filter(user__email="bench@martech.example", name=LABEL).delete()
    TrackingPlan.objects.filter(name=PLAN).delete()
    EventSchema.objects.filter(name=EVENT).delete()


def _drain() -> tuple[int, float]:
    from apps.events.pipeline import process_waiting

    started, total = time.perf_counter(), 0
    while taken := process_waiting(max_batches=1000):
        total += taken
    return total, time.perf_counter() - started


def _validate_requests(port: int, token: str, plan_id: int, kind: str) -> list[bytes]:
    head = (
        f"POST /api/v1/schemas/validate/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        "Content-Length: "
    )
    out = []
    for _ in range(REQUESTS):
        body = orjson.dumps(
            {
                "event": EVENT,
                "properties": _values(kind)["properties"],
                "plan": plan_id,
                "mode": "flag",
            }
        )
        out.append(f"{head}{len(body)}\r\n\r\n".encode() + body)
    return out


def _validate(port: int, raws: list[bytes]) -> float:
    wire = _Wire(port)
    started = time.perf_counter()
    for raw in raws:
        status, body = wire.send(raw)
        if status != 200 or b'"action":"flag"' not in body.replace(b" ", b""):
            raise RuntimeError(f"validate: {status}: {body[:200]!r}")
    elapsed = time.perf_counter() - started
    wire.close()
    return elapsed


def main() -> None:
    setup()

    from apps.events.models import Event

    plan, source, key, token = _plan_and_source()
    _drain()  # what earlier runs left waiting is not this run's
    port = _port()
    kinds = ("plain", "adversarial")
    collected: dict[str, list[float]] = {k: [] for k in kinds}
    processed: dict[str, list[float]] = {k: [] for k in kinds}
    validated: dict[str, list[float]] = {k: [] for k in kinds}
    prepared = {
        k: [
            (_requests(port, key, _batches(k)), _validate_requests(port, token, plan.pk, k))
            for _ in range(ROUNDS)
        ]
        for k in kinds
    }
    messages = REQUESTS * PER_BATCH
    # production settings need the suppression list's key; a benchmark-only one here
    os.environ.setdefault("MARTECH_SUPPRESSION_KEYS", "bench-only-suppression-key-0123456789abcdef")
    server = _serve(port)
    try:
        _drive(port, _requests(port, key, _batches("plain")[:2]))  # warm up the workers
        _drain()
        for r in range(ROUNDS):
            for kind in kinds if r % 2 == 0 else kinds[::-1]:
                batches, checks = prepared[kind][r]
                before = Event.objects.filter(source=source).count()
                elapsed, _ = _drive(port, batches)
                stored = Event.objects.filter(source=source).count() - before
                if stored != messages:
                    raise RuntimeError(f"{kind}: {messages} sent and answered 200, {stored} stored")
                collected[kind].append(elapsed / messages)
                done, elapsed = _drain()
                if done != messages:
                    raise RuntimeError(f"{kind}: {messages} accepted, {done} processed")
                processed[kind].append(elapsed / messages)
                validated[kind].append(_validate(port, checks) / len(checks))
    finally:
        server.terminate()
        server.wait(timeout=30)
        _clean()
    print(
        f"adversarial vs plain input: {ROUNDS} rounds; per round and kind {REQUESTS} batches "
        f"of {PER_BATCH} messages ({LENGTH:,} characters in each of six values) and "
        f"{REQUESTS} validate requests"
    )
    for label, figures in (
        ("collection API (HTTP)", collected),
        ("pipeline", processed),
        ("POST /api/v1/schemas/validate/", validated),
    ):
        plain, adversarial = (statistics.median(figures[k]) for k in kinds)
        print(
            f"  {label:32s} plain {plain * 1000:8.2f} ms  adversarial "
            f"{adversarial * 1000:8.2f} ms  per message  adversarial / plain "
            f"{adversarial / plain:5.2f}x (target: at most 3x)"
        )


if __name__ == "__main__":
    main()
