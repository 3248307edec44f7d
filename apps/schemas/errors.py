"""Error codes of the schemas app: the ``code`` of every error its services raise."""

from enum import StrEnum


class SchemasErrorCode(StrEnum):
    BREAKING_NEEDS_PUBLISH = "breaking_needs_publish"
    DRAFT_EXISTS = "draft_exists"
    DRAFT_IN_PLAN = "draft_in_plan"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    INVALID_BUNDLE = "invalid_bundle"
    INVALID_NAME = "invalid_name"
    INVALID_PROPERTY_NAME = "invalid_property_name"
    INVALID_SCHEMA = "invalid_schema"
    NAME_IN_USE = "name_in_use"
    NOT_A_DRAFT = "not_a_draft"
    NOT_PUBLISHED = "not_published"
    PURPOSE_MISSING = "purpose_missing"
    TOO_DEEP = "too_deep"
    TOO_LARGE = "too_large"
    TWO_VERSIONS = "two_versions"
    UNKNOWN_EVENT = "unknown_event"
    UNKNOWN_VERSION = "unknown_version"
    UNSUPPORTED_PATTERN = "unsupported_pattern"
