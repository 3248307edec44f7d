"""Error codes of the tools app: the ``code`` of every error its services raise, and of each
broken rule (``rules.Problem``) and warning the registry's form and API name."""

from enum import StrEnum


class ToolsErrorCode(StrEnum):
    CURRENCY = "currency"
    FILE_TOO_LARGE = "file_too_large"
    IMPORT_FAILED = "import_failed"
    INVALID = "invalid"
    INVALID_CSV = "invalid_csv"
    MISSING_COLUMNS = "missing_columns"
    NEGATIVE_COST = "negative_cost"
    NOTICE_BEFORE_START = "notice_before_start"
    RENEWAL_BEFORE_START = "renewal_before_start"
    SEATS_OVER_BOUGHT = "seats_over_bought"
    TOO_MANY_ROWS = "too_many_rows"
    TOOL_EXISTS = "tool_exists"
    UNKNOWN_CAPABILITY = "unknown_capability"
    UNKNOWN_DATA_CATEGORY = "unknown_data_category"
    # Warnings: told, and the tool is saved
    NOTICE_PASSED = "notice_passed"
