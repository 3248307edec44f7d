"""The identity graph's vocabularies."""

from django.db import models


class IdentifierType(models.TextChoices):
    ANONYMOUS_ID = "anonymous_id", "Anonymous id / first-party cookie"
    DEVICE_ID = "device_id", "Device id (IDFA, GAID)"
    EMAIL = "email", "Email"
    USER_ID = "user_id", "User id"
    PHONE = "phone", "Phone (E.164)"


# A custom type is written "custom:<name>", e.g. "custom:loyalty_number".
CUSTOM_PREFIX = "custom:"


class LinkKind(models.TextChoices):
    DETERMINISTIC = "deterministic", "Deterministic"
    PROBABILISTIC = "probabilistic", "Probabilistic"


class LinkStatus(models.TextChoices):
    ACTIVE = "active", "Linked"
    CONFLICT = "conflict", "Conflict (not merged)"
    PENDING = "pending", "Waiting for review"
    REJECTED = "rejected", "Rejected"
    UNDONE = "undone", "Undone"


# Links that are evidence the resolver applies (a conflict stays evidence: it may apply later
# if the link that beat it is undone).
EVIDENCE = (LinkStatus.ACTIVE, LinkStatus.CONFLICT)


class ProfileState(models.TextChoices):
    ANONYMOUS = "anonymous", "Anonymous"
    TRANSITIONING = "transitioning", "Transitioning"
    IDENTIFIED = "identified", "Identified"


class Rule(models.TextChoices):
    SAME_EVENT = "same_event", "Both on one event"
    IDENTIFY = "identify", "Identify call"
    ALIAS = "alias", "Alias call"
    LOGIN = "login", "Login"
    IMPORT = "import", "Import"
    IP_USER_AGENT = "ip_user_agent", "Same IP and user agent within a short window"
    REVIEWED = "reviewed", "Confirmed by a person"
    MANUAL = "manual", "Linked by a person"
