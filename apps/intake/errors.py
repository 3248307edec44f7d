"""Error codes of the intake app: the ``code`` of every error its services raise."""

from enum import StrEnum


class IntakeErrorCode(StrEnum):
    ALREADY_DECIDED = "already_decided"
    APPROVER_CANNOT_DECIDE = "approver_cannot_decide"
    CANDIDATE_EXISTS = "candidate_exists"
    CLOSED = "closed"
    COMMENT_REQUIRED = "comment_required"
    CURRENCY = "currency"
    INACTIVE_PERSON = "inactive_person"
    INVALID = "invalid"
    NAME_REQUIRED = "name_required"
    NEGATIVE_COST = "negative_cost"
    NOT_DEFERRED = "not_deferred"
    REASON_REQUIRED = "reason_required"
    REVISIT_PAST = "revisit_past"
    REVISIT_TOO_FAR = "revisit_too_far"
    SELF_APPROVAL = "self_approval"
    STAGE_INCOMPLETE = "stage_incomplete"
    STAGE_LOCKED = "stage_locked"
    TITLE_REQUIRED = "title_required"
    UNKNOWN_CAPABILITY = "unknown_capability"
    UNKNOWN_PART = "unknown_part"
    UNKNOWN_VERDICT = "unknown_verdict"
