"""CSV cells that a spreadsheet would run as formulas are defused."""

import pytest

from martech.common.exports import csv_cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM", "'@SUM"),
     ("newsletter", "newsletter"), (42, 42), ("", "")],
)  # fmt: skip
def test_formula_like_text_is_prefixed_and_the_rest_is_unchanged(value, expected):
    assert csv_cell(value) == expected
