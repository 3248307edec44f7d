"""The PPS intake: a request for a new tool walks Problem → People → System → Decision."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .choices import STAGE_ORDER, Approach, Outcome, Part, Stage, Verdict


class IntakeRequest(models.Model):
    title = models.CharField(max_length=160)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intake_requests"
    )
    team = models.CharField(max_length=100, blank=True)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.PROBLEM)
    stage_entered_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    # Problem
    problem_statement = models.TextField("The discrete issue", blank=True)
    who_suffers = models.TextField("Who suffers it", blank=True)
    cost_hours_per_month = models.DecimalField(
        "Hours lost a month", max_digits=8, decimal_places=1, null=True, blank=True
    )
    cost_money_per_month = models.DecimalField(
        "Money lost a month", max_digits=12, decimal_places=2, null=True, blank=True
    )
    cost_currency = models.CharField(max_length=3, default="USD")
    evidence = models.TextField(blank=True)
    # System
    approach = models.CharField(max_length=8, choices=Approach.choices, blank=True)
    proposed_capabilities = models.JSONField(default=list, blank=True)
    system_design = models.TextField("Proposed design", blank=True)
    # Decision
    round = models.PositiveSmallIntegerField(
        default=1, help_text="Counts decisions: reopening a deferred request starts a new round."
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    revisit_on = models.DateField(null=True, blank=True)
    tool = models.ForeignKey(
        "tools.Tool",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="intake_requests",
        help_text="The registry tool an approved request brought in.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["stage", "outcome"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def stage_index(self) -> int:
        return STAGE_ORDER.index(self.stage)

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.CLOSED


class Stakeholder(models.Model):
    request = models.ForeignKey(
        IntakeRequest, on_delete=models.CASCADE, related_name="stakeholders"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intake_parts"
    )
    part = models.CharField(max_length=16, choices=Part.choices)
    note = models.CharField(max_length=200, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("part", "person__full_name")
        constraints = [
            models.UniqueConstraint(fields=["request", "person"], name="intake_one_part_each")
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_part_display()})"


class Candidate(models.Model):
    request = models.ForeignKey(IntakeRequest, on_delete=models.CASCADE, related_name="candidates")
    name = models.CharField(max_length=120)
    vendor = models.CharField(max_length=120, blank=True, help_text="Empty for an in-house build.")
    tool = models.ForeignKey(
        "tools.Tool",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="intake_candidacies",
        help_text="The registry entry, when the candidate is already registered.",
    )
    estimated_annual_cost = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(max_length=3, default="USD")
    notes = models.TextField(blank=True)
    preferred = models.BooleanField(default=False)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-preferred", "added_at", "id")
        constraints = [
            models.UniqueConstraint("request", Lower("name"), name="intake_candidate_name_unique"),
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(preferred=True),
                name="intake_one_preferred_candidate",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Vote(models.Model):
    request = models.ForeignKey(IntakeRequest, on_delete=models.CASCADE, related_name="votes")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intake_votes"
    )
    round = models.PositiveSmallIntegerField()
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    comment = models.TextField()
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("decided_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "approver", "round"], name="intake_one_vote_per_round"
            )
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.verdict}s (round {self.round})"


class OnboardingTask(models.Model):
    request = models.ForeignKey(
        IntakeRequest, on_delete=models.CASCADE, related_name="onboarding_tasks"
    )
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.title


class HistoryEntry(models.Model):
    """One line of a request's story, readable by everyone who can see the request."""

    request = models.ForeignKey(IntakeRequest, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    kind = models.CharField(max_length=40)
    message = models.TextField()

    class Meta:
        ordering = ("at", "id")
        verbose_name_plural = "history entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label}: {self.message}"
