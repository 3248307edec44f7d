"""Error codes of the accounts app."""

from enum import StrEnum


class AccountsErrorCode(StrEnum):
    EMAIL_TAKEN = "email_taken"
    INVALID_TOKEN_LIFETIME = "invalid_token_lifetime"  # noqa: S105 (an error code)
    TOKEN_REVOKED = "token_already_revoked"  # noqa: S105 (an error code)
    INACTIVE_USER = "inactive_user"
    INVALID_CREDENTIALS = "invalid_credentials"
    DEACTIVATE_SELF = "deactivate_self"
    MANAGER_CYCLE = "manager_cycle"
    SUPERUSER_PROTECTED = "superuser_protected"
    SSO_REQUIRED = "sso_required"
    SSO_STATE_MISMATCH = "sso_state_mismatch"
    SSO_CANCELLED = "sso_cancelled"
    SSO_PROVIDER_UNAVAILABLE = "sso_provider_unavailable"
    SSO_INVALID_TOKEN = "sso_invalid_token"  # noqa: S105 (an error code)
    SSO_EMAIL_MISSING = "sso_email_missing"
    SSO_EMAIL_UNVERIFIED = "sso_email_unverified"
    SSO_UNKNOWN_PERSON = "sso_unknown_person"
    INVALID_MFA_CODE = "invalid_mfa_code"
    MFA_ALREADY_ENROLLED = "mfa_already_enrolled"
    MFA_NOT_ENROLLED = "mfa_not_enrolled"
    MFA_REQUIRED = "mfa_required"
    MFA_ENROLMENT_REQUIRED = "mfa_enrolment_required"
    SECOND_FACTOR_REQUIRED = "second_factor_required"
