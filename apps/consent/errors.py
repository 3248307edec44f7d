"""Error codes of the consent app: the ``code`` of every error its services raise."""

from enum import StrEnum


class ConsentErrorCode(StrEnum):
    FUTURE_CHOICE = "future_choice"
    IDENTIFIER_REQUIRED = "identifier_required"
    JURISDICTION = "jurisdiction"
    LEGAL_BASIS = "legal_basis"
    PURPOSE_EXISTS = "purpose_exists"
    PURPOSE_IN_USE = "purpose_in_use"
    SUBJECT_SUPPRESSED = "subject_suppressed"
    UNKNOWN_PURPOSE = "unknown_purpose"
    UNKNOWN_SOURCE = "unknown_source"
