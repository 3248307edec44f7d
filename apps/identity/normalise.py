"""Identifier values in one canonical form, and the junk that never links anything."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

import phonenumbers
from django.conf import settings

from apps.identity.errors import IdentityErrorCode
from martech.common.errors import ApplicationError

from .choices import CUSTOM_PREFIX, IdentifierType

JUNK = {"", "null", "none", "nil", "undefined", "anonymous", "unknown", "0", "-1", "nan", "n/a"}
_ZERO_CHARS = "0-:."  # 0000, 00000000-0000-0000-0000-000000000000, 00:00:…
_CUSTOM = re.compile(r"[a-z][a-z0-9_]{0,39}")  # at most 40 characters are ever looked at
MAX_VALUE = 320


class InvalidIdentifier(ApplicationError):
    code = IdentityErrorCode.INVALID_IDENTIFIER


@dataclass(frozen=True, order=True)
class Ident:
    """A normalised identifier: its type and canonical value."""

    type: str
    value: str

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


_TYPES = frozenset(IdentifierType.values)  # the enum's .values builds a new list on each use


def _check_type(kind: str) -> str:
    kind = (kind or "").strip().lower()
    if kind in _TYPES:
        return kind
    if kind.startswith(CUSTOM_PREFIX) and _CUSTOM.fullmatch(kind[len(CUSTOM_PREFIX) :]):
        return kind
    raise InvalidIdentifier(
        f"Unknown identifier type {kind!r}: use one of {', '.join(IdentifierType.values)} "
        "or custom:<name>.",
        details={"type": kind},
    )


_blocklist: tuple[object, frozenset[str]] = (None, frozenset())


def _blocked() -> frozenset[str]:
    """``IDENTITY_BLOCKLIST`` lower-cased, built again only when the setting is replaced."""
    global _blocklist
    configured = settings.IDENTITY_BLOCKLIST
    if _blocklist[0] is not configured:
        _blocklist = (configured, frozenset(v.strip().lower() for v in configured))
    return _blocklist[1]


def is_junk(value: str) -> bool:
    """Placeholder values SDKs send when they know nothing; they must never link people."""
    lowered = value.strip().lower()
    return (
        lowered in JUNK
        or lowered in _blocked()
        or (lowered != "" and lowered.strip(_ZERO_CHARS) == "")
    )


def is_email(value: str) -> bool:
    """Whether ``value`` is one address: text without ``@`` or white space, ``@``, then a
    domain without them that has a dot with text on both sides (what the pattern
    ``[^@\\s]+@[^@\\s]+\\.[^@\\s]+`` matches in full). A few passes over the text, never a
    backtracking search."""
    local, at, domain = value.partition("@")
    return (
        bool(at and local)
        and "@" not in domain
        and "." in domain[1:-1]
        and not any(c.isspace() for c in value)
    )


def normalise(kind: str, value) -> Ident:
    """Return the canonical identifier, or raise InvalidIdentifier with the reason."""
    kind = _check_type(kind)
    if value is None:
        raise InvalidIdentifier("The value is empty.", code=IdentityErrorCode.JUNK_IDENTIFIER)
    value = str(value).strip()
    given = value
    if len(value) > MAX_VALUE:
        raise InvalidIdentifier(f"The value is longer than {MAX_VALUE} characters.")
    if "\x00" in value:  # no identifier holds one, and PostgreSQL stores no text that does
        raise InvalidIdentifier("The value holds a NUL character.")
    if is_junk(value):
        raise InvalidIdentifier(
            f"{value!r} is a placeholder, not an identifier; it never links anything.",
            code=IdentityErrorCode.JUNK_IDENTIFIER,
            details={"value": value},
        )
    if kind == IdentifierType.EMAIL:
        value = value.lower()
        if not is_email(value):
            raise InvalidIdentifier(f"{value!r} is not an email address.")
    elif kind == IdentifierType.PHONE:
        try:
            number = phonenumbers.parse(value, settings.IDENTITY_DEFAULT_REGION)
        except phonenumbers.NumberParseException as exc:
            raise InvalidIdentifier(f"{value!r} is not a phone number: {exc}.") from exc
        if not phonenumbers.is_valid_number(number):
            raise InvalidIdentifier(f"{value!r} is not a valid phone number.")
        value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    elif kind == IdentifierType.DEVICE_ID:
        value = value.lower()
    if value != given and is_junk(value):  # unchanged: checked above already
        raise InvalidIdentifier(
            f"{value!r} is a placeholder.", code=IdentityErrorCode.JUNK_IDENTIFIER
        )
    return Ident(kind, value)


def parse(text: str) -> Ident:
    """Parse ``type:value`` (as in ``?identifier=email:ana@example.com``)."""
    kind, sep, value = (text or "").partition(":")
    if kind == "custom" and sep:
        name, sep, value = value.partition(":")
        kind = f"custom:{name}"
    if not sep:
        raise InvalidIdentifier("Write the identifier as type:value, e.g. email:ana@example.com.")
    return normalise(kind, value)


# What a bare value may be, tried in this order; custom types match on the value alone.
_BARE_TYPES = (
    IdentifierType.EMAIL,
    IdentifierType.PHONE,
    IdentifierType.USER_ID,
    IdentifierType.ANONYMOUS_ID,
    IdentifierType.DEVICE_ID,
)


def lookup_candidates(text: str) -> list[Ident]:
    """The identifiers a person looking someone up may mean: ``type:value`` names one; a
    bare value (``ana@example.com``, ``+49 151 2345678``, ``cus_48213``) is each type it
    can be. Raises InvalidIdentifier when it can be none."""
    text = (text or "").strip()
    kind, sep, _ = text.partition(":")
    if sep and (kind.strip().lower() in _TYPES or kind.strip().lower() == "custom"):
        return [parse(text)]
    found: list[Ident] = []
    reason = None
    for kind in _BARE_TYPES:
        if kind == IdentifierType.EMAIL and "@" not in text:
            continue
        try:
            found.append(normalise(kind, text))
        except InvalidIdentifier as exc:
            reason = reason or exc
    if not found:
        raise reason or InvalidIdentifier("Type an email, phone number or id.")
    return found


def resolve(text: str, *, seen: Callable[[list[Ident]], Collection[Ident]]) -> Ident:
    """The one identifier ``text`` names, for a form that acts on one person.

    ``type:value`` is taken as written; a bare email address is an email and a bare number
    written with ``+`` a phone. Any other bare value is the one type ``seen`` (which
    answers the candidates the console already knows) reports for it. When it is known as
    none or as several, raise InvalidIdentifier (code ``ambiguous_identifier``) asking for
    the type, naming the ways it can be written."""
    candidates = lookup_candidates(text)
    if len(candidates) == 1:
        return candidates[0]
    bare = (text or "").strip()
    for ident in candidates:
        if ident.type == IdentifierType.EMAIL or (
            ident.type == IdentifierType.PHONE and bare.startswith("+")
        ):
            return ident
    known = set(seen(candidates))
    found = [ident for ident in candidates if ident in known]
    if len(found) == 1:
        return found[0]
    ways = [str(ident) for ident in (found or candidates)]
    written = f"{', '.join(ways[:-1])} or {ways[-1]}"
    if found:
        why = f"“{bare}” is known as more than one kind of identifier"
    else:
        why = f"“{bare}” has not been seen yet, so its kind is not known"
    raise InvalidIdentifier(
        f"{why}: write it as {written}.",
        code=IdentityErrorCode.AMBIGUOUS_IDENTIFIER,
        details={"candidates": ways},
    )
