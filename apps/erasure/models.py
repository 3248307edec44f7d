"""Erasure requests, the suppression list, and one task per tool that holds the person's data.

While a request is open its identifiers are kept encrypted (the tasks need them to ask each
vendor); when it completes they are dropped and only their keyed hashes stay (HMAC-SHA256
under a key kept apart from the database, see ``suppression.py``), with the dates, the people
who handled it and the outcome, for the retention the law asks (24 months or more). Each hash
records the id of the key it is under.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .suppression import current_key_id


class Jurisdiction(models.TextChoices):
    GDPR = "gdpr", "GDPR (EU/UK)"
    CCPA = "ccpa", "CCPA/CPRA (California)"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEB_FORM = "web_form", "Web form"
    SUPPORT = "support", "Support ticket"
    PHONE = "phone", "Phone"
    POST = "post", "Letter"
    API = "api", "API"


class RequestStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    VERIFIED = "verified", "Verified"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    REJECTED = "rejected", "Rejected"
    DUPLICATE = "duplicate", "Duplicate"


OPEN = (RequestStatus.RECEIVED, RequestStatus.VERIFIED, RequestStatus.IN_PROGRESS)


class ErasureRequest(models.Model):
    reference = models.CharField(max_length=20, unique=True)
    subject_type = models.CharField(max_length=48)
    subject_hash = models.CharField(max_length=64, db_index=True, help_text="Keyed hash.")
    key_id = models.CharField(
        max_length=16, default=current_key_id, help_text="The key the hashes are under."
    )
    subject_masked = models.CharField(
        max_length=120, help_text="For people, e.g. a***@acme.example"
    )
    subject_token = models.TextField(blank=True, help_text="Encrypted while open; then dropped.")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    jurisdiction = models.CharField(max_length=4, choices=Jurisdiction.choices)
    received_on = models.DateField()
    deadline = models.DateField()
    extended_deadline = models.DateField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_note = models.TextField(blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    local_erasure = models.JSONField(default=dict, blank=True, help_text="What was deleted here.")
    not_asked = models.JSONField(
        default=list,
        blank=True,
        help_text='Destinations given no task, and why: [{"destination", "reason"}].',
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    retain_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.reference

    @property
    def due(self):
        return self.extended_deadline or self.deadline

    @property
    def days_left(self) -> int:
        return (self.due - timezone.localdate()).days

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


class IdentifierOrigin(models.TextChoices):
    REQUESTED = "requested", "Given in the request"
    DETERMINISTIC = "deterministic", "Same profile (deterministic)"
    PROBABILISTIC = "probabilistic", "Possible match (probabilistic)"


class Decision(models.TextChoices):
    INCLUDED = "included", "Included"
    PENDING = "pending", "Waiting for a decision"
    EXCLUDED = "excluded", "Not the same person"


# What an included identifier's erasure has reached, by the status of its request: it is
# erased only once the request is complete.
INCLUDED_BY_STATUS = {
    RequestStatus.RECEIVED: "Will be erased",
    RequestStatus.VERIFIED: "Will be erased",
    RequestStatus.IN_PROGRESS: "Being erased",
    RequestStatus.COMPLETED: "Erased",
    RequestStatus.REJECTED: "Not erased",
}


class ErasureIdentifier(models.Model):
    request = models.ForeignKey(
        ErasureRequest, on_delete=models.CASCADE, related_name="identifiers"
    )
    type = models.CharField(max_length=48)
    value_hash = models.CharField(max_length=64, help_text="Keyed hash of type:value.")
    key_id = models.CharField(
        max_length=16, default=current_key_id, help_text="The key the hash is under."
    )
    masked = models.CharField(max_length=120)
    token = models.TextField(blank=True, help_text="Encrypted while the request is open.")
    origin = models.CharField(max_length=14, choices=IdentifierOrigin.choices)
    decision = models.CharField(max_length=9, choices=Decision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=["request", "type", "value_hash"], name="erasure_identifier_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type}:{self.masked}"

    @property
    def state_label(self) -> str:
        """The decision as it stands now: an included identifier "Will be erased" until
        approval, is "Being erased" while the tools are asked and is "Erased" once the request
        is complete; a duplicate's follows the request it duplicates."""
        if self.decision != Decision.INCLUDED:
            return self.get_decision_display()
        request = self.request
        if request.status == RequestStatus.DUPLICATE:
            original = request.duplicate_of
            if original is None:
                return Decision.INCLUDED.label
            state = INCLUDED_BY_STATUS.get(original.status, Decision.INCLUDED.label)
            return f"{state} with {original.reference}"
        return INCLUDED_BY_STATUS.get(request.status, Decision.INCLUDED.label)


class Suppression(models.Model):
    """A hashed identifier nobody may collect, process or send again."""

    value_hash = models.CharField(
        max_length=64, unique=True, help_text="Keyed hash (HMAC-SHA256) of type:value"
    )
    key_id = models.CharField(
        max_length=16, default=current_key_id, help_text="The key the hash is under."
    )
    type = models.CharField(max_length=48)
    request = models.ForeignKey(
        ErasureRequest, null=True, on_delete=models.SET_NULL, related_name="suppressions"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.type}:{self.value_hash[:12]}"


class TaskKind(models.TextChoices):
    API = "api", "Deletion API"
    MANUAL = "manual", "Manual"


class TaskStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    AWAITING_VENDOR = "awaiting", "Awaiting the vendor"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    MANUAL = "manual", "Manual: waiting for the owner"
    NOT_APPLICABLE = "n/a", "Not applicable"


FINISHED_TASK = (TaskStatus.DONE, TaskStatus.NOT_APPLICABLE)


class ErasureTask(models.Model):
    """The erasure in one destination or registry tool."""

    request = models.ForeignKey(ErasureRequest, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=6, choices=TaskKind.choices)
    destination = models.ForeignKey(
        "destinations.Destination",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="erasure_tasks",
    )
    tool = models.ForeignKey(
        "tools.Tool", null=True, blank=True, on_delete=models.SET_NULL, related_name="erasure_tasks"
    )
    name = models.CharField(max_length=200, help_text="Kept when the tool is gone.")
    status = models.CharField(max_length=12, choices=TaskStatus.choices)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    receipt = models.CharField(max_length=300, blank=True, help_text="Vendor receipt or job id.")
    waiting = models.JSONField(default=list, blank=True, help_text="Receipts being polled.")
    last_error = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True, help_text="What was sent and answered.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmation = models.TextField(blank=True, help_text="How the owner erased it.")
    reason = models.TextField(blank=True, help_text="Why it does not apply.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="erasure_task_due")]

    def __str__(self) -> str:
        return f"{self.request} · {self.name}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_TASK
