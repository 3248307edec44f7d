"""Reads of sources, restricted by ``events.view``."""

from django.db.models import Count, Q, QuerySet

from apps.access.rules import user_can
from martech.common.errors import NotFoundError

from . import store
from .models import Event, Source, WriteKey


def source_list(*, user) -> QuerySet[Source]:
    if user is None or not user_can(user, "events.view"):
        return Source.objects.none()
    return Source.objects.select_related("plan").annotate(
        key_count=Count("write_keys", filter=Q(write_keys__revoked_at__isnull=True))
    )


def source_get(*, user, pk) -> Source:
    source = source_list(user=user).filter(pk=pk).first()
    if source is None:
        raise NotFoundError("No such source.")
    return source


def write_key_get(*, source: Source, pk) -> WriteKey:
    key = source.write_keys.filter(pk=pk).first()
    if key is None:
        raise NotFoundError("This source has no such write key.")
    return key


def event_list(*, user) -> QuerySet[Event]:
    if user is None or not user_can(user, "events.view"):
        return Event.objects.none()
    return Event.objects.select_related("source")


def event_get(*, user, pk) -> Event:
    event = event_list(user=user).filter(pk=pk).first()
    if event is None:
        raise NotFoundError("No such event.")
    return event


def status_counts(source: Source) -> dict[str, int]:
    return dict(source.events.values("status").annotate(n=Count("id")).values_list("status", "n"))


def pipeline_health(*, user, now=None) -> dict:
    """Lag, throughput and failures of the pipeline, for its health page."""
    import datetime as dt

    from django.db.models import Min
    from django.utils import timezone

    from .choices import EventStatus

    events = event_list(user=user)
    now = now or timezone.now()
    waiting = events.filter(status=EventStatus.RECEIVED)
    oldest = waiting.aggregate(oldest=Min("received_at"))["oldest"]
    hour = now - dt.timedelta(hours=1)
    done = events.filter(processed_at__gte=hour).exclude(status=EventStatus.RECEIVED)
    return {
        "waiting": waiting.count(),
        "lag_seconds": (now - oldest).total_seconds() if oldest else 0,
        "processed_last_hour": done.count(),
        "accepted_last_hour": events.filter(received_at__gte=hour).count(),
        "failed": events.filter(status=EventStatus.FAILED).count(),
        "quarantined": events.filter(status=EventStatus.QUARANTINED).count(),
        "recent_failures": list(events.filter(status=EventStatus.FAILED).order_by("-id")[:20]),
        "per_source": list(
            events.filter(received_at__gte=hour)
            .values("source__name")
            .annotate(n=Count("id"))
            .order_by("-n")[:20]
        ),
    }


DIMENSIONS = {
    "channel": "Channel",
    "campaign": "Campaign",
    "network": "Ad network",
    "source": "UTM source",
}


# What a report row says when a touch has no value for the dimension.
NO_VALUE = {
    "channel": "No marketing arrival yet",
    "campaign": "No campaign",
    "network": "No ad network",
    "source": "No UTM source",
}
# Channels touches recorded before the channels were only the documented ones.
FORMER_CHANNELS = {"campaign": "referral"}


def attribution_report(*, user, start, end, dimension: str = "channel") -> list[dict]:
    """Profiles whose first (or last) touch fell in [start, end], by ``dimension``.

    Channels are the documented ones (``attribution.CHANNELS``): a touch recorded under a
    former name counts under today's, and a touch without a value says so in words."""
    import datetime as dt

    from django.db.models import TextField
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast

    from apps.identity.models import Profile

    if user is None or not user_can(user, "events.view"):
        return []
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    low = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC).isoformat()
    high = dt.datetime.combine(end, dt.time.max, tzinfo=dt.UTC).isoformat()
    rows: dict[str, dict] = {}
    for touch in ("first_touch", "last_touch"):
        counted = (
            Profile.objects.filter(merged_into__isnull=True)
            # As text: on SQLite a comparison with a key of a JSON field reads its right-hand
            # side as JSON, and an ISO date-time is not JSON.
            .annotate(at=Cast(KT(f"{touch}__at"), TextField()), value=KT(f"{touch}__{dimension}"))
            .filter(at__gte=low, at__lte=high)
            .values("value")
            .annotate(n=Count("id"))
        )
        for row in counted:
            key = row["value"] or NO_VALUE[dimension]
            if dimension == "channel":
                key = FORMER_CHANNELS.get(key, key)
            entry = rows.setdefault(key, {"value": key, "first_touch": 0, "last_touch": 0})
            entry[touch] += row["n"]
    return sorted(rows.values(), key=lambda r: (-r["first_touch"] - r["last_touch"], r["value"]))


def stored_messages(event_ids: list[int]) -> dict[int, dict]:
    """The stored messages of these events, by id, for destinations to send. Events erased,
    or emptied by the retention, are left out."""
    return store.stored_messages(event_ids)


def settled_events(after_id: int, limit: int, *, subjects: bool = True) -> list[store.Settled]:
    """Up to ``limit`` events after ``after_id``, in id order, whose processing is over,
    stopping before the first one still waiting for it (so that a reader that remembers the
    last id it took misses none), each with the subjects its message names (for the
    suppression list; not worked out with ``subjects=False``, when nobody is suppressed).
    For loads into a warehouse: not restricted by person."""
    from .pipeline import MAX_ATTEMPTS
    from .subjects import message_subjects

    events = store.settled_after(after_id, limit, max_attempts=MAX_ATTEMPTS)
    for event in events if subjects else ():
        if event.payload is not None:
            event.subjects = message_subjects(
                event.payload, user_id=event.user_id, anonymous_id=event.anonymous_id
            )
    return events


def activation_events_sql() -> str:
    """The events the console publishes for activation, as a SQLite SELECT over this app's
    tables (the embedded mode's ``activation.events`` follows merges on it through
    ``activation.profile_ids``; PostgreSQL's view is created by ``events.0006``). One row per
    event a destination may receive, with the view's column names; ``profile_id`` is the
    profile the event was stored with (merges not followed here)."""
    return store.activation_events_sqlite()
