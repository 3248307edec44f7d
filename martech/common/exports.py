"""Helpers for files people open in spreadsheets."""


def csv_cell(value):
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab or carriage
    return) is prefixed with an apostrophe. Numbers and other values pass unchanged."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
