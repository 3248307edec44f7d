"""Error codes of the erasure app: the ``code`` of every error its services raise."""

from enum import StrEnum


class ErasureErrorCode(StrEnum):
    ALREADY_DECIDED = "already_decided"
    ALREADY_EXTENDED = "already_extended"
    FINISHED = "finished"
    INVALID_DATE = "invalid_date"
    INVALID_IDENTIFIER = "invalid_identifier"
    INVALID_JURISDICTION = "invalid_jurisdiction"
    NOT_FAILED = "not_failed"
    NOT_MANUAL = "not_manual"
    NOT_OPEN = "not_open"
    NOT_RECEIVED = "not_received"
    NOT_VERIFIED = "not_verified"
    NOTE_REQUIRED = "note_required"
    REASON_REQUIRED = "reason_required"
