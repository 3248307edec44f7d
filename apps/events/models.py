"""Sources that send events, and their write keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.schemas.choices import Enforcement
from apps.schemas.models import TrackingPlan

from .choices import Environment, EventStatus, MessageType, SourceKind


class Source(models.Model):
    """A website, app or backend that sends events with a write key."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=12, choices=SourceKind.choices, default=SourceKind.WEBSITE)
    environment = models.CharField(
        max_length=12, choices=Environment.choices, default=Environment.PRODUCTION
    )
    description = models.TextField(blank=True)
    allowed_origins = models.JSONField(
        default=list, blank=True, help_text="Browser origins allowed to send (CORS)."
    )
    plan = models.ForeignKey(
        TrackingPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="sources"
    )
    enforcement = models.CharField(
        max_length=8, choices=Enforcement.choices, default=Enforcement.ALLOW
    )
    rate_limit = models.PositiveIntegerField(
        default=200, help_text="Requests per second before the API answers 429."
    )
    is_active = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class WriteKeyQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, source__is_active=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class WriteKey(models.Model):
    """A source's write key. Only its SHA-256 digest is stored; the key is shown once."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="write_keys")
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a newer key replaces it (the overlap ends)."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = WriteKeyQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        if self.expires_at:
            return "retiring"
        return "active"


class Event(models.Model):
    """One accepted message, stored before the collection API answers 200."""

    # No index of its own: (source, message_id) and (source, received_at) lead with it.
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    message_id = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=MessageType.choices)
    name = models.CharField(max_length=200, blank=True, help_text="Event or page name.")
    anonymous_id = models.CharField(max_length=200, blank=True)
    user_id = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(help_text="The message as received, with batch context merged.")
    timestamp = models.DateTimeField(help_text="When it happened (Segment's semantics).")
    received_at = models.DateTimeField(default=timezone.now)
    gpc = models.BooleanField(default=False, help_text="Sent with Sec-GPC: 1.")
    status = models.CharField(
        max_length=12, choices=EventStatus.choices, default=EventStatus.RECEIVED
    )
    violations = models.JSONField(default=list, blank=True)
    consent = models.JSONField(null=True, blank=True, help_text="Purposes granted when collected.")
    profile_id = models.BigIntegerField(null=True, blank=True)
    attribution = models.JSONField(
        null=True, blank=True, help_text="The arrival's referrer class, UTMs and click id."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-received_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["source", "message_id"], name="events_message_once")
        ]
        indexes = [
            models.Index(
                fields=["id"],
                condition=Q(status__in=["received", "failed"]),
                name="events_waiting",
            ),
            models.Index(fields=["source", "-received_at"], name="events_by_source"),
            models.Index(
                fields=["source", "received_at"],
                condition=Q(status="quarantined"),
                name="events_quarantined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.name or ''} ({self.message_id})".strip()
