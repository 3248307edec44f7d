"""Access: capabilities come from roles, tenure and trainings; grants, requests, reviews.

The tables keep the names they had when these models lived in ``accounts``
(``Meta.db_table``), so moving them to their own app changed no table.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone

from apps.accounts.models import User

from .registry import capability_label


class Training(models.Model):
    """A course a person completes; a completion may expire after ``validity_days``."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    validity_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days a completion stays valid. Empty: it never expires."
    )
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_trainings"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "accounts_training"
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class TrainingCompletion(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="training_completions")
    training = models.ForeignKey(Training, on_delete=models.PROTECT, related_name="completions")
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "accounts_trainingcompletion"
        ordering = ("-completed_on", "-id")

    def __str__(self) -> str:
        return f"{self.training} completed by {self.user} on {self.completed_on:%Y-%m-%d}"

    def is_valid_on(self, day: dt.date) -> bool:
        return self.completed_on <= day and (self.expires_on is None or self.expires_on > day)


class Role(models.Model):
    """A named bundle of capabilities, each with its own tenure and training rules."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="owned_roles")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "accounts_role"
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class RoleCapability(models.Model):
    """One capability of a role, granted once tenure and trainings are satisfied."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="capability_rules")
    capability = models.CharField(max_length=100)
    min_tenure_days = models.PositiveIntegerField(default=0)
    trainings = models.ManyToManyField(Training, blank=True, related_name="required_by")

    class Meta:
        db_table = "accounts_rolecapability"
        ordering = ("capability",)
        constraints = [
            models.UniqueConstraint(fields=["role", "capability"], name="role_capability_unique")
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.capability}"


class BirthrightRule(models.Model):
    """Assign a role automatically to everyone whose attributes match (all given must)."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="birthright_rules")
    team = models.CharField(max_length=100, blank=True, help_text="Exact team name, any case.")
    job_title_contains = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "accounts_birthrightrule"
        ordering = ("role__name", "team", "job_title_contains")

    def __str__(self) -> str:
        return f"{self.role}: {self.describe()}"

    def describe(self) -> str:
        parts = []
        if self.team:
            parts.append(f"team is {self.team}")
        if self.job_title_contains:
            parts.append(f"job title contains “{self.job_title_contains}”")
        return " and ".join(parts) or "everyone"

    def matches(self, user: User) -> bool:
        if self.team and user.team.strip().lower() != self.team.strip().lower():
            return False
        return not (
            self.job_title_contains
            and self.job_title_contains.strip().lower() not in user.job_title.lower()
        )


def _role_xor_capability(name: str) -> models.CheckConstraint:
    """Exactly one of a role or a single capability."""
    return models.CheckConstraint(
        condition=(models.Q(role__isnull=False) & models.Q(capability=""))
        | (models.Q(role__isnull=True) & ~models.Q(capability="")),
        name=name,
    )


class AssignmentSource(models.TextChoices):
    EXPLICIT = "explicit", "Assigned"
    BIRTHRIGHT = "birthright", "Birthright rule"
    REQUEST = "request", "Access request"


class AccessAssignment(models.Model):
    """A role, or a single capability, held by a person, possibly until ``ends_at``."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    role = models.ForeignKey(
        Role, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    capability = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=20, choices=AssignmentSource.choices)
    birthright_rule = models.ForeignKey(
        BirthrightRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    access_request = models.ForeignKey(
        "AccessRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Time-bound access ends here.")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    # A birthright assignment revoked by a person is not re-created by its rule.
    suppressed = models.BooleanField(default=False)
    # Capabilities of the role withdrawn from this holder alone (by an access review).
    excluded_capabilities = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "accounts_accessassignment"
        ordering = ("-created_at",)
        constraints = [
            _role_xor_capability("assignment_role_xor_capability"),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(ended_at__isnull=True, source="explicit"),
                name="one_open_explicit_assignment_per_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.subject}"

    @property
    def subject(self) -> str:
        return self.role.name if self.role_id else self.capability

    @property
    def subject_label(self) -> str:
        """The role's name, or the capability's label: what a person reads."""
        return self.role.name if self.role_id else capability_label(self.capability)

    def is_active(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.ended_at is None and (self.ends_at is None or self.ends_at > now)


class GrantQuerySet(models.QuerySet):
    def effective(self, now: dt.datetime | None = None):
        """Grants in force now: not revoked and not past their expiry."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class Grant(models.Model):
    """One effective capability of a person, with the reason they have it.

    Grants are maintained by ``rules.access_recompute``: created when a role, tenure and
    trainings allow it, revoked when they no longer do. ``expires_at`` makes a grant lapse
    by itself at the end of time-bound access or of a training's validity.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    capability = models.CharField(max_length=100, db_index=True)
    assignment = models.ForeignKey(
        AccessAssignment, on_delete=models.CASCADE, related_name="grants"
    )
    reason = models.TextField()
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=200, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        db_table = "accounts_grant"
        ordering = ("capability", "-granted_at")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "capability", "assignment"],
                condition=models.Q(revoked_at__isnull=True),
                name="grant_one_open_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.capability}"


class AccessRequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class AccessRequest(models.Model):
    """A person asks for a role or a capability for a while, with a justification."""

    requester = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_requests")
    role = models.ForeignKey(
        Role, null=True, blank=True, on_delete=models.CASCADE, related_name="access_requests"
    )
    capability = models.CharField(max_length=100, blank=True)
    justification = models.TextField()
    duration_days = models.PositiveIntegerField()
    status = models.CharField(
        max_length=20, choices=AccessRequestStatus.choices, default=AccessRequestStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="A pending request lapses here.")
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    access_ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_accessrequest"
        ordering = ("-created_at",)
        constraints = [_role_xor_capability("request_role_xor_capability")]

    def __str__(self) -> str:
        return f"Request #{self.pk}: {self.requester} → {self.subject}"

    @property
    def subject(self) -> str:
        return self.role.name if self.role_id else self.capability

    @property
    def subject_label(self) -> str:
        """The role's name, or the capability's label: what a person reads."""
        return self.role.name if self.role_id else capability_label(self.capability)


class ReviewPolicy(models.TextChoices):
    KEEP = "keep", "Keep unreviewed access"
    REVOKE = "revoke", "Revoke unreviewed access"


class ReviewCampaign(models.Model):
    """A periodic check of who holds some roles or capabilities, item by item."""

    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    roles = models.ManyToManyField(Role, blank=True, related_name="review_campaigns")
    capabilities = models.JSONField(default=list, blank=True)
    deadline = models.DateTimeField()
    unreviewed_policy = models.CharField(max_length=10, choices=ReviewPolicy.choices)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_reviewcampaign"
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ReviewDecision(models.TextChoices):
    PENDING = "pending", "Pending"
    KEEP = "keep", "Keep"
    REVOKE = "revoke", "Revoke"


class ReviewItem(models.Model):
    """One person's hold on a role or capability, to keep or revoke."""

    campaign = models.ForeignKey(ReviewCampaign, on_delete=models.CASCADE, related_name="items")
    assignment = models.ForeignKey(AccessAssignment, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="review_items"
    )
    capabilities = models.JSONField(default=list, blank=True)
    decision = models.CharField(
        max_length=10, choices=ReviewDecision.choices, default=ReviewDecision.PENDING
    )
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    by_policy = models.BooleanField(default=False)

    class Meta:
        db_table = "accounts_reviewitem"
        ordering = ("user__full_name", "id")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "assignment"], name="review_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.assignment}"
