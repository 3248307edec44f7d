"""Error codes of the identity app: the ``code`` of every error its services raise."""

from enum import StrEnum


class IdentityErrorCode(StrEnum):
    ALREADY_REVIEWED = "already_reviewed"
    ALREADY_UNDONE = "already_undone"
    AMBIGUOUS_IDENTIFIER = "ambiguous_identifier"
    EMPTY = "empty"
    INVALID_CONFIDENCE = "invalid_confidence"
    INVALID_IDENTIFIER = "invalid_identifier"
    INVALID_LINK = "invalid_link"
    JUNK_IDENTIFIER = "junk_identifier"
    MERGE_CONFLICT = "merge_conflict"
    NO_LINK = "no_link"
    SAME_IDENTIFIER = "same_identifier"
    SAME_PROFILE = "same_profile"
