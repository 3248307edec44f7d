from django.db import models


class SourceKind(models.TextChoices):
    WEBSITE = "website", "Website"
    IOS = "ios", "iOS app"
    ANDROID = "android", "Android app"
    SERVER = "server", "Backend / server"
    OTHER = "other", "Other"


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    SANDBOX = "sandbox", "Sandbox"


class MessageType(models.TextChoices):
    TRACK = "track", "Track"
    IDENTIFY = "identify", "Identify"
    PAGE = "page", "Page"
    SCREEN = "screen", "Screen"
    GROUP = "group", "Group"
    ALIAS = "alias", "Alias"


class EventStatus(models.TextChoices):
    RECEIVED = "received", "Received (waiting for the pipeline)"
    PROCESSED = "processed", "Processed"
    FLAGGED = "flagged", "Processed, flagged by the tracking plan"
    QUARANTINED = "quarantined", "Quarantined by the tracking plan"
    FAILED = "failed", "Failed (will be retried)"
