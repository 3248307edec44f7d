"""Reads of sources, restricted by ``events.view``."""

from django.db.models import Count, Q, QuerySet

from apps.accounts.access import user_can
from martech.common.errors import NotFoundError

from .models import Source, WriteKey


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
