from django.db import models


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    DEPRECATED = "deprecated", "Deprecated"


class ChangeKind(models.TextChoices):
    """SchemaVer: MODEL-REVISION-ADDITION."""

    INITIAL = "initial", "First version"
    NONE = "none", "No change to the contract"
    ADDITION = "addition", "Addition (old events stay valid)"
    REVISION = "revision", "Revision (some old events may no longer be valid)"
    BREAKING = "breaking", "Breaking (a new model)"


class DataCategory(models.TextChoices):
    CONTACT = "contact", "Contact"
    IDENTIFIER = "identifier", "Identifier"
    FINANCIAL = "financial", "Financial"
    BEHAVIOURAL = "behavioural", "Behavioural"
    DEVICE = "device", "Device / technical"
    LOCATION = "location", "Location"
    PRODUCT = "product", "Product / commercial"
    SENSITIVE = "sensitive", "Sensitive (special category)"
    OTHER = "other", "Other"


class Enforcement(models.TextChoices):
    ALLOW = "allow", "Allow: record violations, deliver the event"
    FLAG = "flag", "Flag: record violations and mark the event"
    BLOCK = "block", "Block: quarantine the event, never deliver it"


class ViolationKind(models.TextChoices):
    UNPLANNED_EVENT = "unplanned_event", "Unplanned event"
    MISSING_REQUIRED = "missing_required", "Missing required property"
    WRONG_TYPE = "wrong_type", "Wrong type"
    UNEXPECTED_PROPERTY = "unexpected_property", "Unexpected property"
    OUT_OF_RANGE = "out_of_range", "Value out of range or enum"
