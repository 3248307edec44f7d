"""Destinations (an adapter instance tied to a registry tool), deliveries and test captures."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.consent.choices import SALE_SHARE

from .adapters import CATALOG
from .choices import DeliveryStatus, Environment, FilterReason, Sends


def adapter_purposes(adapter: str) -> tuple[str, ...]:
    """The purposes an adapter itself requires, whatever a destination was given: the
    sale/share purpose when sending to it is a sale or sharing of personal data."""
    found = CATALOG.get(adapter)
    return (SALE_SHARE,) if found is not None and found.sells_or_shares else ()


class Destination(models.Model):
    """Where data goes: one vendor API, configured, with the consent it requires."""

    name = models.CharField(max_length=120, unique=True)
    adapter = models.CharField(max_length=40)
    tool = models.ForeignKey("tools.Tool", on_delete=models.PROTECT, related_name="destinations")
    environment = models.CharField(
        max_length=12, choices=Environment.choices, default=Environment.SANDBOX
    )
    description = models.TextField(blank=True)
    config = models.JSONField(default=dict, blank=True)
    # The credentials as one Fernet token (see ``crypto``); never shown back.
    credentials_token = models.TextField(blank=True)
    credentials_set = models.JSONField(default=list, blank=True, help_text="Names only.")
    base_url = models.URLField(
        blank=True, help_text="The vendor API's origin, if not its public default."
    )
    purposes = models.JSONField(default=list, blank=True, help_text="Purpose codes required.")
    sends = models.CharField(max_length=10, choices=Sends.choices, default=Sends.EVENTS)
    event_names = models.JSONField(default=list, blank=True, help_text="Empty: every event.")
    mappings = models.JSONField(default=list, blank=True, help_text='[{"from", "to"}]')
    is_enabled = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # What the adapter requires is stored among the purposes, so that the pages and the
        # API show what routing checks.
        if isinstance(self.purposes, list) and not set(self.fixed_purposes) <= set(self.purposes):
            self.purposes = list(self.required_purposes)
        super().save(*args, **kwargs)

    @property
    def is_production(self) -> bool:
        return self.environment == Environment.PRODUCTION

    @property
    def name_with_environment(self) -> str:
        """Where data goes, as a confirmation names it: "Braze (production)"; the name alone
        when it already says its environment ("Amplitude sandbox", "Braze (production)")."""
        environment = self.get_environment_display().lower()
        if environment in self.name.lower():
            return self.name
        return f"{self.name} ({environment})"

    @property
    def required_purposes(self) -> tuple[str, ...]:
        """Every purpose a person must grant for their data to come here: those it was given
        and those its adapter requires (sale/share for an ad network). Routing, replays,
        deliveries and syncs check this, never ``purposes`` alone."""
        given = self.purposes if isinstance(self.purposes, list) else []
        return tuple(sorted({*given, *adapter_purposes(self.adapter)}))

    @property
    def fixed_purposes(self) -> tuple[str, ...]:
        """The purposes its adapter requires: shown as fixed, never removable."""
        return adapter_purposes(self.adapter)


class Delivery(models.Model):
    """One event (or profile) for one destination: what was sent, under which consent, and
    how it ended. Every routed event has one per enabled destination."""

    # No index of its own: destinations_recent (and the others) lead with it. No database
    # constraint either: its check ran once per delivery at every commit (about 3 ms of a
    # routed batch of 1,000), while a destination's deliveries are deleted with it by Django,
    # and a destination is never deleted otherwise.
    destination = models.ForeignKey(
        Destination,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        db_constraint=False,
    )
    event_id = models.BigIntegerField(null=True, blank=True)
    message_id = models.CharField(max_length=100, blank=True)
    event_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=400, blank=True, help_text="type:value")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    reason = models.CharField(max_length=20, choices=FilterReason.choices, blank=True)
    consent = models.JSONField(null=True, blank=True, help_text="The snapshot used.")
    payload = models.JSONField(null=True, blank=True, help_text="What is sent (until purged).")
    attempts = models.PositiveIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-id",)
        constraints = [
            # Event first: it also finds an event's deliveries (the event page, routing's
            # look-up of what a replayed event has, erasure).
            models.UniqueConstraint(
                fields=["event_id", "destination"],
                condition=Q(event_id__isnull=False),
                name="destinations_delivery_once",
            )
        ]
        indexes = [
            # Due deliveries are taken in id order: walk this, skipping those not due yet.
            models.Index(
                fields=["destination", "id"],
                condition=Q(status__in=["pending", "retrying"]),
                name="destinations_due",
            ),
            models.Index(
                fields=["destination", "subject", "id"],
                condition=Q(status__in=["pending", "retrying"]),
                name="destinations_unfinished",
            ),
            # A destination's deliveries, newest first (its page, the delivery log).
            models.Index(fields=["destination", "-id"], name="destinations_recent"),
            models.Index(
                fields=["-last_attempt_at"],
                condition=Q(status="dead"),
                name="destinations_dead",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id or self.pk} → {self.destination_id}"


class Capture(models.Model):
    """A request the console built for a "send test", kept in the sandbox inbox instead of
    going to the vendor: exactly what the vendor would receive, secrets masked."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="captures")
    method = models.CharField(max_length=8)
    url = models.CharField(max_length=2000)
    headers = models.JSONField(default=dict)
    body = models.TextField(blank=True)
    items = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


class LoadStatus(models.TextChoices):
    RUNNING = "running", "Running"
    LOADED = "loaded", "Loaded"
    FAILED = "failed", "Failed"


class WarehouseLoad(models.Model):
    """One load of events into a warehouse destination: the events after ``after_event_id``
    up to ``last_event_id`` (the next load starts after it), what was loaded where, and what
    the tables gained. A destination has at most one running load."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="loads")
    status = models.CharField(max_length=8, choices=LoadStatus.choices, default=LoadStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    after_event_id = models.BigIntegerField(default=0)
    last_event_id = models.BigIntegerField(default=0)
    events = models.PositiveIntegerField(default=0, help_text="Events read.")
    loaded = models.PositiveIntegerField(default=0, help_text="Events loaded.")
    filtered = models.JSONField(default=dict, blank=True, help_text="Reason -> events.")
    rows = models.JSONField(default=dict, blank=True, help_text="Table -> rows written.")
    added = models.JSONField(default=list, blank=True, help_text='[{"table", "column", "type"}]')
    conflicts = models.JSONField(default=list, blank=True)
    newest_received_at = models.DateTimeField(
        null=True, blank=True, help_text="Arrival of the newest event loaded."
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(
                fields=["destination"],
                condition=Q(status="running"),
                name="destinations_one_running_load",
            )
        ]
        indexes = [models.Index(fields=["destination", "-id"], name="destinations_loads")]

    def __str__(self) -> str:
        return f"{self.destination} load {self.pk}"

    @property
    def lag(self):
        """How long the newest loaded event waited to be loaded."""
        if self.newest_received_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.newest_received_at


class WarehousePublication(models.Model):
    """What a warehouse destination publishes besides events (``deleted_users``,
    ``identity_graph``, ``profiles``): its hash key and how the last publication went.

    The key is the destination's own (generated, never chosen), stored encrypted like
    credentials, and shown once to someone with destinations.manage; the warehouse holds it
    too (``hash_key``), so that models compute the same hashes of their own columns."""

    destination = models.OneToOneField(
        Destination, on_delete=models.CASCADE, related_name="publication"
    )
    key_token = models.TextField(help_text="The hash key, encrypted.")
    key_shown_at = models.DateTimeField(null=True, blank=True)
    key_shown_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    rows = models.JSONField(default=dict, blank=True, help_text="Table -> rows published.")
    unpublishable = models.PositiveIntegerField(
        default=0,
        help_text="Suppressed identifiers whose values were gone before they could "
        "be hashed with the key.",
    )
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.destination} publication"


class PublishedErasure(models.Model):
    """An erased identifier as a warehouse destination publishes it in ``deleted_users``:
    its hash under the destination's key, made while the erasure request still held the
    value (the console keeps only its own keyed hash after that)."""

    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="published_erasures"
    )
    type = models.CharField(max_length=48)
    identifier_hash = models.CharField(max_length=64)
    suppressed_at = models.DateTimeField()

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "identifier_hash"], name="destinations_erasure_published"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type}:{self.identifier_hash[:12]}"
