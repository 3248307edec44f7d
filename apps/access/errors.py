"""Error codes of the access app."""

from enum import StrEnum


class AccessErrorCode(StrEnum):
    # Who may change what
    OWN_ACCESS = "own_access"
    SUPERUSER_PROTECTED = "superuser_protected"
    # Input
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_CAPABILITY = "unknown_capability"
    INVALID_FORM = "invalid"
    EMPTY_BIRTHRIGHT_RULE = "empty_birthright_rule"
    COMPLETION_IN_FUTURE = "completion_in_future"
    ENDS_IN_PAST = "ends_in_past"
    ROLE_OR_CAPABILITY = "role_or_capability"
    JUSTIFICATION_REQUIRED = "justification_required"
    INVALID_DURATION = "invalid_duration"
    EMPTY_REVIEW = "empty_review"
    DEADLINE_IN_PAST = "deadline_in_past"
    INVALID_POLICY = "invalid_policy"
    INVALID_DECISION = "invalid_decision"
    # Roles and trainings
    ROLE_NAME_TAKEN = "role_name_taken"
    ROLE_IN_USE = "role_in_use"
    ROLE_HAS_HISTORY = "role_has_history"
    TRAINING_NAME_TAKEN = "training_name_taken"
    ALREADY_ASSIGNED = "already_assigned"
    ALREADY_ENDED = "already_ended"
    # Requests
    ALREADY_HELD = "already_held"
    DUPLICATE_REQUEST = "duplicate_request"
    NOT_PENDING = "not_pending"
    REQUESTER_INACTIVE = "requester_inactive"
    OWN_REQUEST = "own_request"
    APPROVER_LACKS_CAPABILITY = "approver_lacks_capability"
    NOT_AN_APPROVER = "not_an_approver"
    TENURE_NOT_REACHED = "tenure_not_reached"
    NOT_REQUESTER = "not_requester"
    # Reviews
    REVIEW_CLOSED = "review_closed"
    NOT_THE_REVIEWER = "not_the_reviewer"
