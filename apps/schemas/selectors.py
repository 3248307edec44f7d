"""Reads of the schema registry, restricted by ``schemas.view``."""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db.models import (
    CharField,
    Count,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import (
    Cast,
    Concat,
    TruncDate,
)
from django.utils import timezone

from apps.access.rules import user_can
from martech.common.errors import NotFoundError

from .choices import VersionStatus
from .engine.impact import Impact, count_failures
from .engine.validate import Verdict, compiled_plan, gate
from .models import EventSchema, Observation, PropertySpec, SchemaVersion, TrackingPlan, Violation


def _visible(user) -> bool:
    return user is not None and user_can(user, "schemas.view")


def schema_list(*, user) -> QuerySet[EventSchema]:
    if not _visible(user):
        return EventSchema.objects.none()
    published = Q(versions__status=VersionStatus.PUBLISHED)
    newest = SchemaVersion.objects.filter(schema=OuterRef("pk"), model__isnull=False).order_by(
        "-model", "-revision", "-addition"
    )
    draft = SchemaVersion.objects.filter(schema=OuterRef("pk"), status=VersionStatus.DRAFT)
    return EventSchema.objects.annotate(
        # The latest version and the draft, for lists, without a query per row.
        latest_number=Subquery(
            newest.annotate(
                n=Concat(
                    Cast("model", CharField()),
                    Value("-"),
                    Cast("revision", CharField()),
                    Value("-"),
                    Cast("addition", CharField()),
                )
            ).values("n")[:1]
        ),
        latest_status=Subquery(newest.values("status")[:1]),
        draft_id=Subquery(draft.values("pk")[:1]),
        version_count=Count("versions", distinct=True),
        published_count=Count("versions", filter=published, distinct=True),
        last_published=Max("versions__published_at"),
    )


def schema_get(*, user, pk) -> EventSchema:
    schema = schema_list(user=user).filter(pk=pk).first()
    if schema is None:
        raise NotFoundError("No such event schema.")
    return schema


def version_list(*, user, schema: EventSchema | None = None) -> QuerySet[SchemaVersion]:
    if not _visible(user):
        return SchemaVersion.objects.none()
    versions = SchemaVersion.objects.select_related("schema", "created_by", "published_by")
    return versions.filter(schema=schema) if schema is not None else versions


def version_get(*, user, pk, schema: EventSchema | None = None) -> SchemaVersion:
    version = (
        version_list(user=user, schema=schema)
        .prefetch_related(Prefetch("fields", queryset=PropertySpec.objects.order_by("name")))
        .filter(pk=pk)
        .first()
    )
    if version is None:
        raise NotFoundError("No such schema version.")
    return version


def latest_published(schema: EventSchema) -> SchemaVersion | None:
    return (
        schema.versions.exclude(model__isnull=True)
        .order_by("-model", "-revision", "-addition")
        .first()
    )


def current_draft(schema: EventSchema) -> SchemaVersion | None:
    return schema.versions.filter(status=VersionStatus.DRAFT).first()


IMPACT_DAYS = 7
IMPACT_SAMPLE = 10_000


def publish_impact(
    *, version: SchemaVersion, days: int = IMPACT_DAYS, cap: int = IMPACT_SAMPLE, now=None
) -> dict:
    """How many of the last ``days`` days' events of the version's name fail the version,
    by source: the latest ``cap`` events are checked (``sampled`` says when there were more).

    The event store belongs to ``events``, which sits below the registry: its model is
    looked up by label (as ``filters.source_choices`` does) and read by column name."""
    since = (now or timezone.now()) - dt.timedelta(days=days)
    events = apps.get_model("events", "Event").objects.filter(
        type="track", name=version.schema.name, received_at__gte=since
    )
    total = events.count()
    rows = events.order_by("-received_at", "-id").values_list("source__name", "payload")[:cap]
    impact = (
        count_failures(
            event_name=version.schema.name,
            json_schema=version.json_schema,
            personal=(f.name for f in version.fields.all() if f.personal),
            samples=(
                (source, payload.get("properties", {}) if isinstance(payload, dict) else None)
                for source, payload in rows.iterator(chunk_size=2000)
            ),
        )
        if total
        else Impact()
    )
    return {
        "days": days,
        "since": since,
        "total": total,
        "checked": impact.checked,
        "failed": impact.failed,
        "sampled": total > impact.checked,
        "sources": [s.as_dict() for s in impact.sources],
    }


def plan_list(*, user) -> QuerySet[TrackingPlan]:
    if not _visible(user):
        return TrackingPlan.objects.none()
    return TrackingPlan.objects.annotate(event_count=Count("versions", distinct=True))


def plan_get(*, user, pk) -> TrackingPlan:
    plan = plan_list(user=user).filter(pk=pk).first()
    if plan is None:
        raise NotFoundError("No such tracking plan.")
    return plan


def plan_verdict(plan: TrackingPlan, mode: str, event_name: str, properties) -> Verdict:
    """Validate one event's properties against ``plan`` (compiled once per revision) and
    decide by the source's enforcement ``mode``: deliver, flag or quarantine, with the
    findings."""
    return gate(compiled_plan(plan), mode, event_name, properties)


def plan_contents(plan: TrackingPlan) -> QuerySet[SchemaVersion]:
    return (
        plan.versions.select_related("schema").prefetch_related("fields").order_by("schema__name")
    )


def violation_list(*, user) -> QuerySet[Violation]:
    if not _visible(user):
        return Violation.objects.none()
    return Violation.objects.select_related("version__schema", "plan")


def violation_counts(*, user, days: int = 14, filters: dict | None = None) -> dict:
    """Counts per day and kind over the last ``days`` days, for the drift chart."""
    today = timezone.localdate()
    since = today - dt.timedelta(days=days - 1)
    start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    rows = (
        violation_list(user=user)
        .filter(occurred_at__gte=start, **(filters or {}))
        .annotate(day=TruncDate("occurred_at"))
        .values("day", "kind")
        .annotate(n=Count("id"))
    )
    labels = [since + dt.timedelta(days=i) for i in range(days)]
    per_kind: dict[str, dict] = {}
    for row in rows:
        per_kind.setdefault(row["kind"], {})[row["day"]] = row["n"]
    return {
        "labels": [d.strftime("%b %d") for d in labels],
        "series": {kind: [per.get(d, 0) for d in labels] for kind, per in per_kind.items()},
    }


def violation_summary(*, user, since: dt.datetime) -> list[dict]:
    """Counts per source, event and kind since a moment, most frequent first."""
    return list(
        violation_list(user=user)
        .filter(occurred_at__gte=since)
        .values("source", "event_name", "kind")
        .annotate(n=Count("id"), last=Max("occurred_at"))
        .order_by("-n", "source", "event_name", "kind")
    )


def observation_list(*, user) -> QuerySet[Observation]:
    if not _visible(user):
        return Observation.objects.none()
    return Observation.objects.all()


def observation_get(*, user, pk) -> Observation:
    observation = observation_list(user=user).filter(pk=pk).first()
    if observation is None:
        raise NotFoundError("No such observation.")
    return observation
