"""The consent ledger's vocabularies."""

from django.db import models


class LegalBasis(models.TextChoices):
    CONSENT = "consent", "Consent"
    LEGITIMATE_INTEREST = "legitimate_interest", "Legitimate interest"
    CONTRACT = "contract", "Contract"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation"


class Jurisdiction(models.TextChoices):
    GDPR = "gdpr", "GDPR (EU, UK): opt-in"
    CCPA = "ccpa", "CCPA/CPRA (California): opt-out"
    OTHER = "other", "Elsewhere"


class Source(models.TextChoices):
    BANNER = "banner", "Cookie banner"
    FORM = "form", "Form"
    API = "api", "API"
    IMPORT = "import", "Import"
    GPC = "gpc", "Global Privacy Control"
    CONSOLE = "console", "Recorded in the console"


# The purpose a Global Privacy Control signal opts out of.
SALE_SHARE = "sale_share"
