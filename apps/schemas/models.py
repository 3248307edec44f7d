"""Event schemas with versioned contracts, tracking plans, and what real traffic did."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import ChangeKind, DataCategory, VersionStatus, ViolationKind


class EventSchema(models.Model):
    """One event of the tracking plan, such as ``Order Completed``."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    owner = models.CharField(max_length=120, blank=True, help_text="Team or person.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class SchemaVersion(models.Model):
    """A JSON Schema (draft 2020-12) of the event's properties, numbered MODEL-REVISION-ADDITION."""

    schema = models.ForeignKey(EventSchema, on_delete=models.CASCADE, related_name="versions")
    model = models.PositiveIntegerField(null=True, blank=True)
    revision = models.PositiveIntegerField(null=True, blank=True)
    addition = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    json_schema = models.JSONField(default=dict)
    change_kind = models.CharField(max_length=12, choices=ChangeKind.choices, blank=True)
    changes = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deprecated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("schema", "-model", "-revision", "-addition", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["schema", "model", "revision", "addition"],
                condition=models.Q(model__isnull=False),
                name="schemas_version_number_unique",
            ),
            models.UniqueConstraint(
                fields=["schema"],
                condition=models.Q(status="draft"),
                name="schemas_one_draft_per_schema",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schema.name} {self.number}"

    @property
    def number(self) -> str:
        if self.model is None:
            return "draft"
        return f"{self.model}-{self.revision}-{self.addition}"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT


class PropertySpec(models.Model):
    """What a property of a version is for: every field collected has a documented purpose."""

    version = models.ForeignKey(SchemaVersion, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    purpose = models.CharField(
        max_length=200,
        blank=True,
        help_text="The consent purpose or business need that justifies collecting it.",
    )
    data_category = models.CharField(
        max_length=16, choices=DataCategory.choices, default=DataCategory.BEHAVIOURAL
    )
    personal = models.BooleanField(default=False, help_text="Personal data.")
    owner = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ("version", "name")
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="schemas_property_unique")
        ]

    def __str__(self) -> str:
        return self.name


class TrackingPlan(models.Model):
    """The set of schema versions a source follows (one version per event)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    versions = models.ManyToManyField(SchemaVersion, related_name="plans", blank=True)
    revision = models.PositiveIntegerField(
        default=1, help_text="Bumped on every change; compiled validators are keyed by it."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Violation(models.Model):
    """One way an event broke its plan, with a sample of what was sent (personal data redacted)."""

    plan = models.ForeignKey(
        TrackingPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="violations"
    )
    source = models.CharField(max_length=120, help_text="The source that sent the event.")
    event_name = models.CharField(max_length=200)
    event_ref = models.CharField(max_length=120, blank=True, help_text="The event's message id.")
    version = models.ForeignKey(
        SchemaVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="violations"
    )
    kind = models.CharField(max_length=24, choices=ViolationKind.choices)
    path = models.CharField(max_length=300, blank=True, help_text="Where in the properties.")
    message = models.CharField(max_length=500)
    sample = models.JSONField(null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-occurred_at", "-id")
        indexes = [models.Index(fields=["source", "event_name", "kind", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.event_name}: {self.kind}"


class Observation(models.Model):
    """An unplanned event, or an unplanned property of a planned one, seen in real traffic."""

    source = models.CharField(max_length=120)
    event_name = models.CharField(max_length=200)
    property = models.CharField(max_length=200, blank=True, help_text="Blank: the whole event.")
    types = models.JSONField(default=dict, help_text="JSON type -> times seen.")
    example_properties = models.JSONField(
        default=dict, blank=True, help_text="Property -> JSON types, for an unplanned event."
    )
    count = models.PositiveBigIntegerField(default=0)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-count",)
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_name", "property"], name="schemas_observation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_name}.{self.property}" if self.property else self.event_name
