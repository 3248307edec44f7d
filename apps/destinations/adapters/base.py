"""What every adapter is: a thin class that speaks one vendor's documented HTTP API.

An adapter turns a batch of ``Item`` s into the HTTP requests the vendor expects
(``requests``) and reads the vendor's answer (``classify``). It never sends anything itself:
the delivery engine sends, records, retries and dead-letters, so the same requests can be
shown in the sandbox inbox exactly as the vendor would receive them. Business rules
(consent, suppression, which events) stay out of adapters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

import orjson


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # temporary: timeouts, 408, 429, 5xx
    PERMANENT = "permanent"  # the vendor refused it: straight to the dead letters


@dataclass(frozen=True)
class Item:
    """One thing to send.

    ``kind`` is ``event`` (a tracked event) or ``profile`` (an upsert of a person's fields).
    ``message`` is the canonical Segment-shaped message (type, event, properties, traits,
    context, timestamp, messageId, userId, anonymousId). ``identifiers`` are normalised
    (``email`` lower-cased, ``phone`` in E.164, ``user_id``, ``anonymous_id``, ``gclid``…).
    ``fields`` are the destination's field mappings already applied.
    """

    key: int
    kind: str
    message: dict
    identifiers: dict[str, str] = field(default_factory=dict)
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Outbound:
    """One HTTP request to the vendor, carrying the items whose keys it lists."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    keys: tuple[int, ...]


@dataclass(frozen=True)
class Result:
    verdict: Verdict
    status: int | None
    message: str = ""
    retry_after: float | None = None  # seconds, from Retry-After or the vendor's own field
    # Vendors that accept part of a batch say which items failed: key -> (verdict, message).
    failed: dict[int, tuple[Verdict, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class DeletionAnswer:
    """What a vendor said to an erasure: ``done``, ``waiting`` (it erases later: poll the
    ``receipt``), ``retry`` (temporary) or ``refused``."""

    state: str
    receipt: str = ""
    message: str = ""
    retry_after: float | None = None


def sha256(value: str) -> str:
    """The hex SHA-256 of a normalised identifier, as ad networks want it."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def json_body(value) -> bytes:
    return orjson.dumps(value)


def retry_after(headers) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    import email.utils
    import time

    raw = (headers.get("retry-after") or "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Adapter:
    """The base every adapter extends; class attributes declare what it can do."""

    key = ""
    label = ""
    vendor = ""
    docs_url = ""
    supports: frozenset[str] = frozenset({"events"})  # events, profiles, deletion
    # Whether sending personal data to it is a sale or sharing under CCPA/CPRA: an ad network
    # that uses it for cross-context behavioural advertising. A destination with such an
    # adapter always requires the sale/share purpose, whatever purposes it was given, so a
    # person who opted out (or whose browser sends Global Privacy Control) never reaches it.
    sells_or_shares = False
    # Loaded in batches on a schedule (a warehouse), not sent event by event: routing
    # records no deliveries for it.
    loads_in_batches = False
    # The identifiers it needs; an item without any of them is filtered, not sent.
    needs: tuple[str, ...] = ()
    batch_size = 100
    rate_limit = 10.0  # requests a second
    default_base_url = ""
    # JSON Schema (draft 2020-12) of the configuration; credentials are separate.
    config_schema: dict = {"type": "object", "properties": {}, "additionalProperties": False}
    credential_fields: tuple[str, ...] = ()
    # Where the credentials go in the requests this adapter builds, so the one masking
    # function (``apps.destinations.masking``) hides exactly those parts, whatever their
    # encoding (Basic auth, URL-encoded query, JSON): header names (case-insensitive), query
    # parameter names, and dotted paths of JSON body fields (``*`` for each list element).
    secret_headers: frozenset[str] = frozenset()
    secret_query_params: frozenset[str] = frozenset()
    secret_body_fields: tuple[str, ...] = ()
    # What a mapped field may be called at the vendor (syncs validate their mappings).
    field_pattern = r"^[A-Za-z_][A-Za-z0-9_.]{0,99}$"
    field_hint = "letters, digits, _ and ., starting with a letter or _"
    reserved_fields: frozenset[str] = frozenset()

    def field_error(self, name: str) -> str:
        """Why ``name`` cannot be a mapped field at this vendor, or "" if it can."""
        import re

        if not re.match(self.field_pattern, name or ""):
            return f"{name!r} is not a {self.label} field name ({self.field_hint})."
        if name in self.reserved_fields:
            return f"{name!r} is set by the console itself at {self.label}; map another field."
        return ""

    def rate_for(self, config: dict) -> float:
        """Requests a second this destination may make (the vendor's limit by default)."""
        return self.rate_limit

    def requests(self, items: list[Item], config: dict, credentials: dict, base_url: str):
        """The HTTP requests that send ``items``; a list of ``Outbound``."""
        raise NotImplementedError

    def deletion(
        self, identifiers: dict[str, str], config: dict, credentials: dict, base_url: str
    ) -> Outbound:
        """The request that erases a person (adapters that support ``deletion``)."""
        raise NotImplementedError

    def deletion_answer(self, status: int, headers, body: bytes) -> DeletionAnswer:
        """Read the answer to ``deletion``. By default 2xx is done (the vendor's answer is the
        receipt), 404 is done (the vendor holds nothing about the person), 408/429/5xx are
        temporary and other 4xx refusals."""
        text = body[:300].decode(errors="replace")
        if 200 <= status < 300:
            return DeletionAnswer("done", receipt=text or f"HTTP {status}")
        if status == 404:
            return DeletionAnswer("done", receipt="404: the vendor holds nothing about them")
        if status in (408, 425, 429) or status >= 500:
            return DeletionAnswer(
                "retry", message=f"{status}: {text}", retry_after=retry_after(headers)
            )
        return DeletionAnswer("refused", message=f"{status}: {text}")

    def deletion_poll(
        self, receipt: str, config: dict, credentials: dict, base_url: str
    ) -> Outbound | None:
        """The request that asks whether a ``waiting`` erasure is done (vendors that erase
        later); None when the vendor has no such call."""
        return None

    def deletion_poll_answer(
        self, status: int, headers, body: bytes, receipt: str
    ) -> DeletionAnswer:
        return self.deletion_answer(status, headers, body)

    def classify(self, status: int, headers, body: bytes, keys: tuple[int, ...]) -> Result:
        """Read the vendor's answer. The default follows HTTP: 2xx delivered; 408, 429 and
        5xx temporary (honouring Retry-After); other 4xx permanent with the vendor's text."""
        text = body[:500].decode(errors="replace")
        if 200 <= status < 300:
            return Result(Verdict.DELIVERED, status)
        if status in (408, 425, 429) or status >= 500:
            return Result(Verdict.RETRY, status, text, retry_after(headers))
        return Result(Verdict.PERMANENT, status, text)
