"""Log redaction runs on a regular-expression engine whose time is linear in the line."""

import re2

from martech.common.logging import _PATTERNS, redact


def test_every_log_redaction_pattern_runs_on_re2():
    assert all(isinstance(pattern, re2._Regexp) for pattern, _ in _PATTERNS)


def test_redaction_keeps_an_authorization_scheme_and_redacts_its_value():
    assert redact("authorization=Basic c2l0ZTpzZWNyZXQ=") == "authorization=Basic [REDACTED]"
    assert redact("token=abc&authorization: Bearer xyz12345") == (
        "token=[REDACTED]&authorization: Bearer [REDACTED]"
    )


def test_a_long_run_of_word_characters_is_redacted_whole():
    line = "a" * 200_000 + "token=" + "b" * 200_000

    assert redact(line) == "a" * 200_000 + "token=[REDACTED]"
