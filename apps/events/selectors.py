"""Reads of sources, restricted by ``events.view``."""

from django.db.models import Count, Q, QuerySet

from apps.accounts.access import user_can
from martech.common.errors import NotFoundError

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
