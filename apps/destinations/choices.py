from django.db import models


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    SANDBOX = "sandbox", "Sandbox"


class Sends(models.TextChoices):
    EVENTS = "events", "Events (track, page, screen)"
    PROFILES = "profiles", "Profiles (identify: upsert people)"
    BOTH = "both", "Events and profiles"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    DELIVERED = "delivered", "Delivered"
    FILTERED = "filtered", "Filtered"
    DEAD = "dead", "Dead letter"


UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


class FilterReason(models.TextChoices):
    CONSENT = "consent", "Consent missing"
    SCHEMA = "schema", "Quarantined by the schema gate"
    SUPPRESSION = "suppression", "Subject suppressed (erasure)"
    EVENT_FILTER = "event_filter", "Not an event this destination takes"
    IDENTIFIER = "identifier", "No identifier the vendor needs"
    FAILED = "failed", "Processing failed"
    ENVIRONMENT = "environment", "Sandbox source, production destination"
