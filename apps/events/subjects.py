"""Every identifier of a person a message names, normalised as the identity graph keys them
(``type:value``): what the suppression list is asked about at collection and again in the
pipeline.

A message may name a person in more places than its ``userId`` and ``anonymousId``: an
alias's ``previousId`` (an earlier user id or anonymous id), the email and phone of its
``traits`` and of ``context.traits``, the device of ``context.device``, and the tracker ids a
Snowplow event carries besides the one it is keyed by (``context.snowplow_ids``), Segment's
``context.externalIds``, and any text anywhere in the message shaped like an email address
(``properties.email``, a Snowplow context's ``data.email``, a ``userId`` that is an address).
"""

from __future__ import annotations

import contextlib

from apps.identity.normalise import InvalidIdentifier, normalise

# (where in the message, the identifier types its value may be)
ID_FIELDS = (
    ("userId", ("user_id",)),
    ("anonymousId", ("anonymous_id",)),
    ("previousId", ("user_id", "anonymous_id")),
)
TRAIT_FIELDS = (("email", "email"), ("phone", "phone"))
DEVICE_FIELDS = ("id", "advertisingId")
# Snowplow's user ids, kept in the message's context by the Snowplow collection API.
SNOWPLOW_IDS = "snowplow_ids"
# Segment's context.externalIds types, as the identity graph names them.
EXTERNAL_TYPES = {
    "email": "email",
    "phone": "phone",
    "user_id": "user_id",
    "userid": "user_id",
    "anonymous_id": "anonymous_id",
    "anonymousid": "anonymous_id",
    "device_id": "device_id",
    "deviceid": "device_id",
}
MAX_WALK = 10_000  # values looked at for email-shaped text (a message holds at most 32 KB)


def _text(value) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _add(out: set[str], kind: str, value) -> None:
    text = _text(value)
    if not text:
        return
    with contextlib.suppress(InvalidIdentifier):
        out.add(str(normalise(kind, text)))


def message_subjects(message, *, user_id: str = "", anonymous_id: str = "") -> set[str]:
    """The identifiers ``message`` names (and the event's stored ``user_id`` and
    ``anonymous_id``), as ``type:value``; a value that is no identifier is left out."""
    out: set[str] = set()
    _add(out, "user_id", user_id)
    _add(out, "anonymous_id", anonymous_id)
    if not isinstance(message, dict):
        return out
    for field, kinds in ID_FIELDS:
        for kind in kinds:
            _add(out, kind, message.get(field))
    context = message.get("context")
    context = context if isinstance(context, dict) else {}
    for traits in (message.get("traits"), context.get("traits")):
        if isinstance(traits, dict):
            for field, kind in TRAIT_FIELDS:
                _add(out, kind, traits.get(field))
    device = context.get("device")
    if isinstance(device, dict):
        for field in DEVICE_FIELDS:
            _add(out, "device_id", device.get(field))
    snowplow = context.get(SNOWPLOW_IDS)
    if isinstance(snowplow, dict):
        _add(out, "user_id", snowplow.get("user_id"))
        for field in ("domain_userid", "network_userid"):
            _add(out, "anonymous_id", snowplow.get(field))
    external = context.get("externalIds")
    if isinstance(external, list):
        for entry in external:
            if isinstance(entry, dict) and isinstance(entry.get("type"), str):
                kind = EXTERNAL_TYPES.get(entry["type"].strip().lower().replace("-", "_"))
                if kind:
                    _add(out, kind, entry.get("id"))
    _emails_within(message, out)
    return out


def _emails_within(message: dict, out: set[str]) -> None:
    """Every string in ``message`` (keys' values, at any depth) that reads as an email
    address, walked without recursion and at most ``MAX_WALK`` values."""
    stack: list = [message]
    seen = 0
    while stack and seen < MAX_WALK:
        item = stack.pop()
        seen += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and "@" in item and len(item) <= 320:
            _add(out, "email", item)
