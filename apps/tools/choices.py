"""The registry's managed vocabularies."""

from django.db import models


class ToolCapability(models.TextChoices):
    EVENT_COLLECTION = "event_collection", "Event collection / CDP"
    WAREHOUSE = "warehouse", "Data warehouse"
    REVERSE_ETL = "reverse_etl", "Reverse ETL"
    EMAIL_LIFECYCLE = "email_lifecycle", "Email / lifecycle messaging"
    PUSH_SMS = "push_sms", "Push and SMS"
    CRM = "crm", "CRM"
    AD_NETWORK = "ad_network", "Ad network"
    ATTRIBUTION = "attribution", "Attribution / deep linking"
    PRODUCT_ANALYTICS = "product_analytics", "Product analytics"
    BI = "bi", "BI and reporting"
    PERSONALIZATION = "personalization", "Personalization / experimentation"
    CONSENT = "consent", "Consent management"
    TAG_MANAGEMENT = "tag_management", "Tag management"
    MARKETING_AUTOMATION = "marketing_automation", "Marketing automation"


class ToolStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    EVALUATING = "evaluating", "Evaluating"
    ACTIVE = "active", "Active"
    SUNSETTING = "sunsetting", "Sunsetting"
    RETIRED = "retired", "Retired"


class DataCategory(models.TextChoices):
    CONTACT = "contact", "Contact details"
    IDENTIFIER = "identifier", "Identifiers"
    BEHAVIOURAL = "behavioural", "Behavioural events"
    FINANCIAL = "financial", "Financial"
    LOCATION = "location", "Location"
    SENSITIVE = "sensitive", "Sensitive / special category"
    AGGREGATE = "aggregate", "Aggregated only"


# The badge colour of each status, the same on every page.
STATUS_COLOURS = {
    ToolStatus.PROPOSED: "azure",
    ToolStatus.EVALUATING: "azure",
    ToolStatus.ACTIVE: "green",
    ToolStatus.SUNSETTING: "orange",
    ToolStatus.RETIRED: "secondary",
}

# Seat use under this share of the seats bought is money paid for nothing.
SEAT_LOW_SHARE = 60

# Tools that cost money and are still in use count towards spend and overlap.
IN_USE = (ToolStatus.EVALUATING, ToolStatus.ACTIVE, ToolStatus.SUNSETTING)
