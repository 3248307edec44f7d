"""Error codes of the destinations app: the ``code`` of every error its services raise."""

from enum import StrEnum


class DestinationsErrorCode(StrEnum):
    DISABLED = "disabled"
    DUPLICATE = "duplicate"
    EVENTS_UNSUPPORTED = "events_unsupported"
    HTTPS_REQUIRED = "https_required"
    INVALID = "invalid"
    INVALID_ADAPTER = "invalid_adapter"
    INVALID_BASE_URL = "invalid_base_url"
    INVALID_CONFIG = "invalid_config"
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_ENVIRONMENT = "invalid_environment"
    INVALID_EVENT_NAMES = "invalid_event_names"
    INVALID_MAPPINGS = "invalid_mappings"
    INVALID_NAME = "invalid_name"
    INVALID_PURPOSES = "invalid_purposes"
    INVALID_SENDS = "invalid_sends"
    KEY_SHOWN = "key_shown"
    LOADED_NOT_SENT = "loaded_not_sent"
    NOT_LOADED = "not_loaded"
    NOTHING_CHOSEN = "nothing_chosen"
    PROFILES_UNSUPPORTED = "profiles_unsupported"
    PURPOSE_REQUIRED = "purpose_required"
    SCHEMA_TAKEN = "schema_taken"
    WAREHOUSE_FAILED = "warehouse_failed"
