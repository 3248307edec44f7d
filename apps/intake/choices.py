"""The intake's vocabularies: stages, parts people play, approaches and outcomes."""

from django.db import models


class Stage(models.TextChoices):
    PROBLEM = "problem", "Problem"
    PEOPLE = "people", "People"
    SYSTEM = "system", "System"
    DECISION = "decision", "Decision"
    CLOSED = "closed", "Closed"


# The order a request walks; a stage opens only when every earlier one is complete.
STAGE_ORDER = (Stage.PROBLEM, Stage.PEOPLE, Stage.SYSTEM, Stage.DECISION, Stage.CLOSED)


class Part(models.TextChoices):
    APPROVER = "approver", "Approver"
    CONSULTED = "consulted", "Consulted"
    NEEDS_TRAINING = "needs_training", "Needs training"
    INFORMED = "informed", "Informed"


class Approach(models.TextChoices):
    BUILD = "build", "Build"
    BUY = "buy", "Buy"
    BOTH = "both", "Build and buy"


class Outcome(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    DEFERRED = "deferred", "Deferred"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Verdict(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


# The onboarding checklist an approved tool starts with, in order.
ONBOARDING_CHECKLIST = (
    "Sign the contract and record cost, seats and renewal in the registry",
    "Get a data processing agreement (DPA) on file",
    "Security and privacy review: what personal data it will hold, and where",
    "Confirm the vendor's deletion API, or the manual erasure procedure",
    "Name a technical owner",
    "Train the people who need it",
    "Decide what it replaces, and plan the retirement of overlapping tools",
)
