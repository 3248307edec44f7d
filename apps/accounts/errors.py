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
