"""CSV files people open in spreadsheets: every export writes through these helpers.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some run one that
starts with a tab or carriage return, or with any of them after leading spaces) as a formula:
``=HYPERLINK(...)`` leaks data, ``=cmd|...`` runs a program. Following OWASP's guidance on CSV
injection, such text is prefixed with an apostrophe (the spreadsheet shows it as text) and
every text cell is quoted, so a separator inside a cell cannot start a new cell in a locale
that splits on ``;``. Numbers (``int``, ``float``, ``Decimal``) are written as numbers, a
negative one included; text that merely looks like a number (``"-12.5"``) is escaped like any
other text. ``csv_value`` undoes the escape, so an export can be imported back unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse

# What a spreadsheet may take as the start of a formula; the full-width forms too, which
# some spreadsheets fold to their ASCII equivalents.
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
_FILENAME_JUNK = re.compile(r"[^A-Za-z0-9._-]")


def _escaped(text: str) -> bool:
    """Whether ``text`` needs the apostrophe: it starts like a formula, after any leading
    whitespace, or after apostrophes (so that ``csv_value`` can always undo ``csv_cell``)."""
    rest = text.lstrip("'")
    return rest[:1] in FORMULA_START or rest.lstrip()[:1] in FORMULA_START


def csv_cell(value: Any) -> Any:
    """Return ``value`` as a cell a spreadsheet will not run: formula-like text gets an
    apostrophe in front; numbers and other values pass unchanged, None becomes empty."""
    if value is None:
        return ""
    if isinstance(value, str) and _escaped(value):
        return "'" + value
    return value


def csv_value(text: str) -> str:
    """Return the text ``csv_cell`` was given for a cell read back from an export."""
    if text[:1] == "'" and _escaped(text[1:]):
        return text[1:]
    return text


def csv_write(out, rows: Iterable[Sequence[Any]]) -> None:
    """Write ``rows`` (the header is a row like any other) to the file-like ``out``."""
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Return ``rows`` as CSV text."""
    out = io.StringIO()
    csv_write(out, rows)
    return out.getvalue()


def csv_response(filename: str, rows: Iterable[Sequence[Any]]) -> HttpResponse:
    """Return ``rows`` as a CSV download named ``filename``."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    safe_name = _FILENAME_JUNK.sub("_", filename) or "export.csv"
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    csv_write(response, rows)
    return response
