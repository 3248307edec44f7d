"""Identifier checks are plain string passes that accept exactly what their patterns did."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.identity.normalise import JUNK, is_email, is_junk

# The patterns the checks replace: the reference each must agree with.
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ZEROS_SHAPE = re.compile(r"[0\-:.]+")


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="ab.@ \t\n\u00a0\u2003\x1c", max_size=24))
def test_the_email_check_accepts_exactly_what_the_email_pattern_matches_in_full(value):
    assert is_email(value) == bool(EMAIL_SHAPE.fullmatch(value))


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0-:.1a \t", max_size=16))
def test_a_value_of_zeros_and_separators_is_a_placeholder_exactly_as_the_pattern_said(value):
    lowered = value.strip().lower()
    assert is_junk(value) == (lowered in JUNK or bool(ZEROS_SHAPE.fullmatch(lowered)))
