"""Identifiers are normalised before use; placeholders never link anyone."""

import pytest

from apps.identity.normalise import Ident, InvalidIdentifier, normalise, parse


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("email", "  Ana.Costa@Example.COM ", "ana.costa@example.com"),
        ("phone", "(415) 555-0123", "+14155550123"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
        (
            "device_id",
            "6D92078A-8246-4BA4-AE5B-76104861E7DC",
            "6d92078a-8246-4ba4-ae5b-76104861e7dc",
        ),
        ("user_id", " u-1042 ", "u-1042"),
        ("custom:loyalty_number", "LX-99", "LX-99"),
    ],
)
def test_values_are_normalised(kind, raw, expected):
    assert normalise(kind, raw) == Ident(kind, expected)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "null",
        "undefined",
        "anonymous",
        "0",
        "-1",
        "NULL",
        "None",
        "00000000-0000-0000-0000-000000000000",
        "0000",
        "test@example.com",
    ],
)
def test_junk_never_becomes_an_identifier(raw):
    with pytest.raises(InvalidIdentifier) as caught:
        normalise("anonymous_id" if "@" not in raw else "email", raw)
    assert caught.value.code == "junk_identifier"


def test_the_block_list_is_configurable(settings):
    settings.IDENTITY_BLOCKLIST = ["shared-kiosk"]
    with pytest.raises(InvalidIdentifier):
        normalise("anonymous_id", "Shared-Kiosk")


@pytest.mark.parametrize(
    ("kind", "raw", "reason"),
    [
        ("email", "not-an-email", "is not an email address"),
        ("phone", "12", "not"),
        ("phone", "+1 555 0100", "not a valid phone number"),
        ("fax", "123", "Unknown identifier type"),
        ("custom:Bad Name", "x", "Unknown identifier type"),
    ],
)
def test_invalid_values_are_rejected_with_a_reason(kind, raw, reason):
    with pytest.raises(InvalidIdentifier) as caught:
        normalise(kind, raw)
    assert reason in caught.value.message


def test_parse_reads_type_colon_value_including_custom_types():
    assert parse("email:Ana@Example.com") == Ident("email", "ana@example.com")
    assert parse("custom:loyalty_number:LX-99") == Ident("custom:loyalty_number", "LX-99")
    with pytest.raises(InvalidIdentifier):
        parse("ana@example.com")


def test_a_value_holding_a_nul_character_is_refused_for_every_type():
    for kind in ("email", "user_id", "anonymous_id", "device_id"):
        with pytest.raises(InvalidIdentifier, match="NUL"):
            normalise(kind, "ana\x00@example.com")
