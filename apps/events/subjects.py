"""Every identifier of a person a message names, normalised as the identity graph keys them
(``type:value``): what the suppression list is asked about at collection and again in the
pipeline.

A message may name a person in more places than its ``userId`` and ``anonymousId``: an
alias's ``previousId`` (an earlier user id or anonymous id), the email and phone of its
``traits`` and of ``context.traits``, the device of ``context.device``, and the tracker ids a
Snowplow event carries besides the one it is keyed by (``context.snowplow_ids``).
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
    return out
