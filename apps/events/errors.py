"""Error codes of the events app, and the one refusal of the collection API.

The collection API (Segment and Snowplow shapes, the consent endpoint, the pixel) refuses a
request, or one message of a batch, by raising ``Refused`` with one of these codes. A whole
request refused answers ``{"success": false, "code", "message"}`` with the refusal's status;
a message refused inside a batch is listed under ``rejected`` with its index and the same
code and message, and the rest of the batch is stored.
"""

from __future__ import annotations

from enum import StrEnum

from martech.common.errors import ApplicationError


class EventsErrorCode(StrEnum):
    # The request
    METHOD_NOT_ALLOWED = "method_not_allowed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INVALID_GZIP = "invalid_gzip"
    INVALID_JSON = "invalid_json"
    MISSING_WRITE_KEY = "missing_write_key"
    INVALID_WRITE_KEY = "invalid_write_key"
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    RATE_LIMITED = "rate_limited"
    INVALID_BATCH = "invalid_batch"
    BATCH_TOO_LARGE = "batch_too_large"
    INVALID_PAYLOAD = "invalid_payload"
    # One message
    INVALID_MESSAGE = "invalid_message"
    INVALID_TYPE = "invalid_type"
    INVALID_FIELD = "invalid_field"
    INVALID_IDENTITY = "invalid_identity"
    MISSING_IDENTITY = "missing_identity"
    MISSING_EVENT = "missing_event"
    MISSING_PREVIOUS_ID = "missing_previous_id"
    MISSING_GROUP_ID = "missing_group_id"
    INVALID_MESSAGE_ID = "invalid_message_id"
    INVALID_TIMESTAMP = "invalid_timestamp"
    TOO_DEEP = "too_deep"
    MESSAGE_TOO_LARGE = "message_too_large"
    INVALID_CHARACTER = "invalid_character"
    SUBJECT_SUPPRESSED = "subject_suppressed"
    # Snowplow events
    INVALID_ENCODING = "invalid_encoding"
    INVALID_SCHEMA = "invalid_schema"
    INVALID_EVENT = "invalid_event"
    INVALID_VALUE = "invalid_value"
    # Consent choices
    INVALID_CHOICES = "invalid_choices"
    INVALID_NOTICE_VERSION = "invalid_notice_version"
    INVALID_SOURCE = "invalid_source"
    # Sources, write keys and replays
    INVALID = "invalid"
    INVALID_ORIGIN = "invalid_origin"
    BLOCK_WITHOUT_PLAN = "block_without_plan"
    DUPLICATE = "duplicate"
    ALREADY_REVOKED = "already_revoked"
    NOTHING_TO_REPLAY = "nothing_to_replay"


class Refused(ApplicationError):
    """The collection API's one refusal: of the request, or of one message of a batch."""

    def __init__(
        self, code: EventsErrorCode, message: str, *, status: int = 400, headers: dict | None = None
    ):
        super().__init__(message, code=code, status=status)
        self.headers = headers or {}
