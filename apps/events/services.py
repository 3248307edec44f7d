"""Writes of sources and their write keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.access.rules import require
from apps.audit.services import audit_record, audit_snapshot
from martech.common import sharedcache
from martech.common.errors import ApplicationError, ConflictError

from .errors import EventsErrorCode
from .models import Source, WriteKey

KEY_PREFIX = "wk_"
SOURCE_FIELDS = (
    "name",
    "kind",
    "environment",
    "description",
    "allowed_origins",
    "plan",
    "enforcement",
    "rate_limit",
    "is_active",
)
MAX_OVERLAP_HOURS = 30 * 24


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def normalise_origins(origins) -> list[str]:
    """``scheme://host[:port]`` for each allowed browser origin; ``*`` is refused."""
    if isinstance(origins, str):
        origins = origins.replace(",", "\n").splitlines()
    clean = []
    for origin in origins or ():
        origin = str(origin).strip().rstrip("/")
        if not origin:
            continue
        parts = urlsplit(origin)
        if origin == "*" or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApplicationError(
                f"{origin!r} is not an origin: write scheme and host, such as "
                "https://www.acme.example (no wildcards).",
                code=EventsErrorCode.INVALID_ORIGIN,
            )
        if parts.path or parts.query or parts.fragment or "@" in parts.netloc:
            raise ApplicationError(
                f"{origin!r}: an origin has no path, query or credentials.",
                code=EventsErrorCode.INVALID_ORIGIN,
            )
        normal = f"{parts.scheme}://{parts.netloc.lower()}"
        if normal not in clean:
            clean.append(normal)
    if len(clean) > 50:
        raise ApplicationError("At most 50 allowed origins.", code=EventsErrorCode.INVALID_ORIGIN)
    return clean


def _validate(source: Source) -> None:
    source.name = (source.name or "").strip()
    if not source.name:
        raise ApplicationError("A source needs a name.", code=EventsErrorCode.INVALID)
    source.allowed_origins = normalise_origins(source.allowed_origins)
    if not 1 <= source.rate_limit <= 100_000:
        raise ApplicationError(
            "The rate limit is between 1 and 100,000 requests a second.",
            code=EventsErrorCode.INVALID,
        )
    if source.plan_id is None and source.enforcement == "block":
        raise ApplicationError(
            "Blocking needs a tracking plan: without one every event would be quarantined.",
            code=EventsErrorCode.BLOCK_WITHOUT_PLAN,
        )


def _issue_key(source: Source, actor) -> tuple[WriteKey, str]:
    raw = KEY_PREFIX + secrets.token_urlsafe(24)
    key = WriteKey.objects.create(
        source=source, prefix=raw[: len(KEY_PREFIX) + 6], key_hash=hash_key(raw), created_by=actor
    )
    return key, raw


@transaction.atomic
def source_create(*, actor, **fields) -> tuple[Source, str]:
    """Create a source with its first write key; the raw key is returned once."""
    require(actor, "events.manage_sources", "create sources")
    source = Source(owner=actor, **fields)
    _validate(source)
    if Source.objects.filter(name__iexact=source.name).exists():
        raise ConflictError(
            f"A source named {source.name!r} exists.", code=EventsErrorCode.DUPLICATE
        )
    source.save()
    key, raw = _issue_key(source, actor)
    after = {**audit_snapshot(source, SOURCE_FIELDS), "write_key": key.prefix}
    audit_record(action="events.source.created", target=source, after=after)
    return source, raw


@transaction.atomic
def source_update(*, actor, source: Source, **changes) -> Source:
    require(actor, "events.manage_sources", "change sources")
    source = Source.objects.select_for_update().get(pk=source.pk)
    before = audit_snapshot(source, SOURCE_FIELDS)
    for key, value in changes.items():
        if key not in SOURCE_FIELDS:
            raise ValueError(key)
        setattr(source, key, value)
    _validate(source)
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError:
        raise ConflictError(
            "A source with that name exists.", code=EventsErrorCode.DUPLICATE
        ) from None
    audit_record(
        action="events.source.updated",
        target=source,
        before=before,
        after=audit_snapshot(source, SOURCE_FIELDS),
    )
    return source


@transaction.atomic
def write_key_rotate(*, actor, source: Source, overlap_hours: int = 24) -> tuple[WriteKey, str]:
    """Issue a new key; the keys in use keep working for ``overlap_hours``, then expire."""
    require(actor, "events.manage_sources", "rotate write keys")
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise ApplicationError(
            f"The overlap is between 0 and {MAX_OVERLAP_HOURS} hours.", code=EventsErrorCode.INVALID
        )
    source = Source.objects.select_for_update().get(pk=source.pk)
    ends = timezone.now() + dt.timedelta(hours=overlap_hours)
    retiring = list(source.write_keys.usable())
    for old in retiring:
        if old.expires_at is None or old.expires_at > ends:
            old.expires_at = ends
            old.save(update_fields=["expires_at"])
    key, raw = _issue_key(source, actor)
    audit_record(
        action="events.write_key.rotated",
        target=source,
        metadata={
            "new": key.prefix,
            "retiring": [k.prefix for k in retiring],
            "overlap_ends": ends.isoformat(),
        },
    )
    return key, raw


@transaction.atomic
def write_key_revoke(*, actor, key: WriteKey) -> WriteKey:
    require(actor, "events.manage_sources", "revoke write keys")
    key = WriteKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        raise ConflictError("This key is already revoked.", code=EventsErrorCode.ALREADY_REVOKED)
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit_record(action="events.write_key.revoked", target=key.source, metadata={"key": key.prefix})
    return key


# Write keys answer from a per-process memory for up to a minute: the collection API then
# asks Redis for one value instead of PostgreSQL for a join. Any change to a source or a key
# (signals in apps.py) replaces the generation, so every process forgets what it knew.
KEYS_GENERATION = sharedcache.register("events:write-keys:generation")
KEY_MEMORY_SECONDS = 60
_known: dict[str, tuple[object, dt.datetime, Source | None]] = {}


def forget_write_keys() -> None:
    """Forget the write keys this process remembers (the shared generation is left alone)."""
    _known.clear()


def keys_changed(**_) -> None:
    """Make every process look its write keys up again (after the current commit)."""
    _known.clear()
    sharedcache.bump(KEYS_GENERATION)


def remembered_source_id(raw: str) -> int | None:
    """The source this process last found for a write key (whether the key is still good or
    not: a key never changes source), or None; no cache or database read."""
    seen = _known.get(hash_key(raw)) if raw and len(raw) <= 200 else None
    return seen[2].pk if seen is not None and seen[2] is not None else None


def authenticate_key(raw: str) -> Source | None:
    """The active source a write key belongs to, or None (unknown, expired, revoked)."""
    if not raw or len(raw) > 200:
        return None
    digest, now = hash_key(raw), timezone.now()
    generation = sharedcache.current(KEYS_GENERATION)
    seen = _known.get(digest)
    if seen is not None and seen[0] == generation and now < seen[1]:
        return seen[2]
    key = WriteKey.objects.usable(now).select_related("source").filter(key_hash=digest).first()
    until = now + dt.timedelta(seconds=KEY_MEMORY_SECONDS)
    if len(_known) > 10_000:  # a flood of made-up keys does not grow memory without end
        _known.clear()
    if key is None:
        _known[digest] = (generation, until, None)
        return None
    if key.last_used_at is None or now - key.last_used_at > dt.timedelta(minutes=1):
        WriteKey.objects.filter(pk=key.pk).update(last_used_at=now)
    if key.expires_at is not None:
        until = min(until, key.expires_at)
    _known[digest] = (generation, until, key.source)
    return key.source


def default_overlap_hours() -> int:
    return settings.WRITE_KEY_OVERLAP_HOURS


@transaction.atomic
def events_replay(*, actor, events) -> int:
    """Put quarantined or failed events back in the pipeline; they are validated again."""
    from .choices import EventStatus
    from .collect import _kick_pipeline
    from .models import Event

    require(actor, "events.replay", "replay events")
    ids = [e.pk for e in events]
    count = Event.objects.filter(
        pk__in=ids, status__in=[EventStatus.QUARANTINED, EventStatus.FAILED]
    ).update(status=EventStatus.RECEIVED, attempts=0, error="", violations=[])
    if not count:
        raise ApplicationError(
            "Nothing to replay: only quarantined or failed events can be replayed.",
            code=EventsErrorCode.NOTHING_TO_REPLAY,
        )
    audit_record(action="events.event.replayed", metadata={"events": ids[:200], "count": count})
    transaction.on_commit(_kick_pipeline)
    return count


def payloads_purge(*, now=None) -> int:
    """Empty the raw payloads of processed events past the retention, and the copies that
    finished deliveries held; keep the facts. An event a delivery still has to send (pending,
    retrying, or a dead letter that may be replayed) keeps its message: deliveries read it
    from the event. Returns how many events were emptied."""
    from django.db.models import Exists, OuterRef

    from apps.destinations.choices import UNFINISHED, DeliveryStatus
    from apps.destinations.models import Delivery
    from apps.destinations.services import payloads_purge as deliveries_purge

    from .choices import EventStatus
    from .models import Event

    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.EVENT_RETENTION_DAYS)
    to_send = Delivery.objects.filter(
        event_id=OuterRef("pk"),
        status__in=[*UNFINISHED, DeliveryStatus.DEAD],
    )
    count = (
        Event.objects.filter(
            received_at__lt=cutoff, status__in=[EventStatus.PROCESSED, EventStatus.FLAGGED]
        )
        .exclude(payload={})
        .exclude(Exists(to_send))
        .update(payload={})
    )
    deliveries = deliveries_purge(before=cutoff)
    if count or deliveries:
        audit_record(
            action="events.payloads.purged",
            metadata={"events": count, "deliveries": deliveries, "before": cutoff.isoformat()},
        )
    return count
