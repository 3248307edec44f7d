"""Reads of destinations and deliveries, restricted by ``destinations.view``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from apps.access.rules import user_can
from martech.common.errors import NotFoundError

from .adapters import CATALOG
from .choices import UNFINISHED, DeliveryStatus, Environment
from .models import Capture, Delivery, Destination, WarehouseLoad, WarehousePublication


def _may(user) -> bool:
    return user is not None and user_can(user, "destinations.view")


def vendor_text_reader(user):
    """Who may read a destination's vendor answers (errors of deliveries, dead letters, the
    destination's last error): those who may change it, that is ``destinations.manage``, and
    ``destinations.send_production`` for a production one. Returns ``may_read(destination)``;
    everyone who sees the destination still sees the status and the HTTP code."""
    manage = user is not None and user_can(user, "destinations.manage")
    production = manage and user_can(user, "destinations.send_production")

    def may_read(destination) -> bool:
        if destination is None or not manage:
            return False
        return production or not destination.is_production

    return may_read


def vendor_text_scope(user) -> Q | None:
    """The deliveries whose vendor answers ``user`` may read, as a filter on deliveries (None:
    none of them); the same rule as ``vendor_text_reader``."""
    if user is None or not user_can(user, "destinations.manage"):
        return None
    if user_can(user, "destinations.send_production"):
        return Q()
    return ~Q(destination__environment=Environment.PRODUCTION)


def vendor_text_hide(user, objects) -> list:
    """Blank the vendor's words on deliveries or destinations ``user`` may not read them on
    (in memory, for display; marks them ``vendor_text_hidden``)."""
    may_read = vendor_text_reader(user)
    out = list(objects)
    for obj in out:
        destination = obj if isinstance(obj, Destination) else obj.destination
        field = "last_error" if isinstance(obj, Destination) else "error"
        hidden = bool(getattr(obj, field)) and not may_read(destination)
        if hidden:
            setattr(obj, field, "")
        obj.vendor_text_hidden = hidden
    return out


def destination_list(*, user) -> QuerySet[Destination]:
    if not _may(user):
        return Destination.objects.none()
    since = timezone.now() - dt.timedelta(hours=24)
    recent = Q(deliveries__last_attempt_at__gte=since)
    return Destination.objects.select_related("tool").annotate(
        delivered_24h=Count("deliveries", filter=recent & Q(deliveries__status="delivered")),
        dead_24h=Count("deliveries", filter=recent & Q(deliveries__status="dead")),
        retrying_now=Count("deliveries", filter=Q(deliveries__status="retrying")),
        pending_now=Count("deliveries", filter=Q(deliveries__status__in=UNFINISHED)),
        oldest_pending=Min("deliveries__created_at", filter=Q(deliveries__status__in=UNFINISHED)),
    )


def destination_get(*, user, pk) -> Destination:
    destination = destination_list(user=user).filter(pk=pk).first()
    if destination is None:
        raise NotFoundError("No such destination.")
    return destination


def health(destination: Destination) -> dict:
    """Success rate, lag and an hourly chart of outcomes over the last 24 hours."""
    now = timezone.now()
    since = now - dt.timedelta(hours=24)
    rows = (
        Delivery.objects.filter(destination=destination, last_attempt_at__gte=since)
        .annotate(hour=TruncHour("last_attempt_at"))
        .values("hour", "status")
        .annotate(n=Count("id"))
    )
    hours = [
        (since + dt.timedelta(hours=h + 1)).replace(minute=0, second=0, microsecond=0)
        for h in range(24)
    ]
    series: dict[str, dict] = defaultdict(dict)
    for row in rows:
        series[row["status"]][row["hour"]] = row["n"]
    delivered = sum(series["delivered"].values())
    failed = sum(series["dead"].values()) + sum(series["retrying"].values())
    oldest = getattr(destination, "oldest_pending", None)
    return {
        "success_rate": delivered / (delivered + failed) if delivered + failed else None,
        "lag_seconds": (now - oldest).total_seconds() if oldest else 0,
        "chart": {
            "labels": [h.strftime("%H:00") for h in hours],
            "series": [
                {"label": label, "color": color, "data": [series[status].get(h, 0) for h in hours]}
                for status, label, color in (
                    ("delivered", "Delivered", "#2fb344"),
                    ("retrying", "Retrying", "#f76707"),
                    ("dead", "Dead letters", "#d63939"),
                )
                if series[status]
            ],
        },
    }


def destinations_sent_to(ids) -> set[int]:
    """Which of the destinations ``ids`` the console ever routed anything to: any delivery
    record at all, whatever its status (erasure scrubs a delivery but keeps the row, and a
    payload purge keeps it too), or any load that put events into a warehouse, so a
    destination that was ever in use counts."""
    ids = list(ids)
    if not ids:
        return set()
    used = Delivery.objects.filter(destination=OuterRef("pk"))
    loaded = WarehouseLoad.objects.filter(destination=OuterRef("pk"), loaded__gt=0)
    return set(
        Destination.objects.filter(pk__in=ids)
        .filter(Exists(used) | Exists(loaded))
        .values_list("pk", flat=True)
    )


def recent_deliveries(destination: Destination, limit: int = 25) -> list[Delivery]:
    return list(destination.deliveries.order_by("-id")[:limit])


def destinations_loading_into(warehouse) -> list[Destination]:
    """The warehouse destinations whose configuration names ``warehouse``."""
    return [
        d
        for d in Destination.objects.filter(adapter="warehouse").order_by("name")
        if str((d.config or {}).get("warehouse")) == str(warehouse.pk)
    ]


def load_warehouse(destination: Destination):
    """The warehouse connection a warehouse destination loads into; None when it is gone."""
    from apps.syncs.models import Warehouse

    try:
        pk = int((destination.config or {}).get("warehouse"))
    except (TypeError, ValueError):
        return None
    return Warehouse.objects.filter(pk=pk).first()


def recent_loads(destination: Destination, limit: int = 10) -> list:
    """The destination's latest loads into its warehouse, newest first."""
    return list(destination.loads.order_by("-id")[:limit])


def warehouse_publication(destination: Destination):
    """The tables a warehouse destination publishes, and how the last publication went (None
    before the first)."""
    return WarehousePublication.objects.filter(destination=destination).first()


def delivery_list(*, user) -> QuerySet[Delivery]:
    if not _may(user):
        return Delivery.objects.none()
    return Delivery.objects.select_related("destination")


def dead_letter_list(*, user) -> QuerySet[Delivery]:
    return delivery_list(user=user).filter(status=DeliveryStatus.DEAD)


def delivery_get(*, user, pk) -> Delivery:
    delivery = delivery_list(user=user).filter(pk=pk).first()
    if delivery is None:
        raise NotFoundError("No such delivery.")
    return delivery


def capture_list(*, user) -> QuerySet[Capture]:
    if not _may(user):
        return Capture.objects.none()
    return Capture.objects.select_related("destination", "created_by")


def routes_of_event(*, user, event_id: int) -> list[dict]:
    """Where one event went and why not elsewhere: every destination's delivery, and the
    destinations that were not enabled when it was routed."""
    if not _may(user):
        return []
    deliveries = {
        d.destination_id: d
        for d in Delivery.objects.filter(event_id=event_id).select_related("destination")
    }
    vendor_text_hide(user, deliveries.values())
    out = []
    for destination in Destination.objects.order_by("name"):
        delivery = deliveries.get(destination.pk)
        out.append({"destination": destination, "delivery": delivery})
    return out


def adapter_catalog() -> list:
    return list(CATALOG.values())
