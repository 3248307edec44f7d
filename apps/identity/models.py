"""The identity graph: profiles, the identifiers they hold, the evidence that links them.

The partition of identifiers into profiles is a function of the evidence alone: the
resolver replays the deterministic links of a connected group in a canonical order (by the
time the evidence was observed), so the order in which evidence arrives does not matter.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import LinkKind, LinkStatus, ProfileState, Rule


class Profile(models.Model):
    state = models.CharField(
        max_length=16, choices=ProfileState.choices, default=ProfileState.ANONYMOUS
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="absorbed"
    )
    # Attribution, filled by the event pipeline: {"at", "source", "medium", "campaign", …}
    first_touch = models.JSONField(default=dict, blank=True)
    last_touch = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return f"Profile {self.pk}"


class Identifier(models.Model):
    type = models.CharField(max_length=48)
    value = models.CharField(max_length=320)
    profile = models.ForeignKey(Profile, on_delete=models.PROTECT, related_name="identifiers")
    # Provenance of the first sighting.
    source = models.CharField(max_length=120, blank=True)
    first_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("type", "value")
        constraints = [
            models.UniqueConstraint(fields=["type", "value"], name="identity_identifier_unique")
        ]

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class Link(models.Model):
    """One piece of evidence that two identifiers belong to one person."""

    a = models.ForeignKey(Identifier, on_delete=models.CASCADE, related_name="links_a")
    b = models.ForeignKey(Identifier, on_delete=models.CASCADE, related_name="links_b")
    kind = models.CharField(max_length=16, choices=LinkKind.choices)
    status = models.CharField(max_length=12, choices=LinkStatus.choices)
    confidence = models.FloatField(default=1.0)
    rule = models.CharField(max_length=24, choices=Rule.choices)
    source = models.CharField(max_length=120, blank=True, help_text="Source or system.")
    event_ref = models.CharField(max_length=120, blank=True, help_text="The event's message id.")
    observed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    reason = models.CharField(max_length=300, blank=True, help_text="Why it did not merge.")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ("observed_at", "id")
        # Nearly every link is machine evidence that is simply active: the indexes cover only
        # the rows a person works on, so bulk loads do not pay for them.
        indexes = [
            models.Index(
                fields=["status", "observed_at"],
                condition=models.Q(status__in=["pending", "conflict"]),
                name="identity_link_review",
            ),
            models.Index(
                fields=["created_by"],
                condition=models.Q(created_by__isnull=False),
                name="identity_link_created_by",
            ),
            models.Index(
                fields=["decided_by"],
                condition=models.Q(decided_by__isnull=False),
                name="identity_link_decided_by",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(a=models.F("b")), name="identity_link_two")
        ]

    def __str__(self) -> str:
        return f"{self.a} ~ {self.b} ({self.kind}, {self.status})"


class Merge(models.Model):
    """A profile absorbed into another by a link; undone by undoing the link."""

    winner = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="merges_won")
    loser = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="merges_lost")
    link = models.ForeignKey(Link, null=True, on_delete=models.SET_NULL, related_name="merges")
    identifiers = models.JSONField(default=list, help_text="type:value of what moved.")
    at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        return f"{self.loser} → {self.winner}"
