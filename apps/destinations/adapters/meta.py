"""Meta Conversions API: server events, ``POST /{api_version}/{pixel_id}/events``.

The access token goes in the ``access_token`` query parameter and the events in ``data`` (up to
1,000 a request). Each event carries ``event_name``, ``event_time`` (unix seconds), ``event_id``
(the message id, which Meta uses to deduplicate against the Pixel), ``action_source``,
``event_source_url``, ``user_data`` and ``custom_data``. In ``user_data`` the email (``em``),
phone (``ph``: digits of the E.164 number, no ``+``) and external id are SHA-256 hashes of the
normalised values; ``fbc``/``fbp`` cookies, the client IP and user agent are sent as they are.

The adapter needs an email or a phone (either is enough): items with neither are filtered out by
the delivery engine before they reach it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import orjson

from .base import Adapter, Item, Outbound, Result, Verdict, json_body, retry_after, sha256

COOKIE_FIELDS = ("fbc", "fbp")
# Graph API error codes that mean "slow down or try again": unknown/service errors and limits.
TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613}


def _unix(message: dict) -> int:
    raw = message.get("timestamp")
    try:
        when = datetime.fromisoformat(str(raw))
    except ValueError:
        when = datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def phone_digits(phone: str) -> str:
    """The digits of an E.164 number, country code included, as Meta hashes them."""
    return "".join(ch for ch in phone if ch.isdigit())


class MetaConversions(Adapter):
    key = "meta_capi"
    label = "Meta Conversions API"
    vendor = "Meta"
    docs_url = "https://developers.facebook.com/docs/marketing-api/conversions-api"
    sells_or_shares = True  # conversions for ad targeting and measurement
    supports = frozenset({"events"})
    needs = ("email", "phone")  # at least one of them
    batch_size = 1000
    rate_limit = 20.0
    default_base_url = "https://graph.facebook.com"
    config_schema = {
        "type": "object",
        "properties": {
            "pixel_id": {
                "type": "string",
                "pattern": "^[0-9]+$",
                "description": "The Pixel (dataset) id events are sent to.",
            },
            "api_version": {
                "type": "string",
                "pattern": "^v[0-9]+\\.[0-9]+$",
                "default": "v21.0",
                "description": "Graph API version, e.g. v21.0.",
            },
            "action_source": {
                "type": "string",
                "enum": [
                    "website",
                    "app",
                    "email",
                    "phone_call",
                    "chat",
                    "physical_store",
                    "system_generated",
                    "business_messaging",
                    "other",
                ],
                "default": "website",
                "description": "Where the conversions happened.",
            },
            "test_event_code": {
                "type": "string",
                "description": "Sends events to the Test Events tool instead of live data.",
            },
            "event_names": {
                "type": "object",
                "additionalProperties": {"type": "string", "minLength": 1},
                "description": "Renames events to Meta standard events, e.g. "
                '{"Order Completed": "Purchase"}.',
            },
        },
        "required": ["pixel_id"],
        "additionalProperties": False,
    }
    credential_fields = ("access_token",)
    secret_query_params = frozenset({"access_token"})

    def _event(self, item: Item, config: dict) -> dict:
        message = item.message
        context = message.get("context") or {}
        ids = item.identifiers
        user_data: dict = {}
        if ids.get("email"):
            user_data["em"] = [sha256(ids["email"])]
        if ids.get("phone"):
            user_data["ph"] = [sha256(phone_digits(ids["phone"]))]
        if ids.get("user_id"):
            user_data["external_id"] = [sha256(ids["user_id"])]
        for cookie in COOKIE_FIELDS:
            if item.fields.get(cookie):
                user_data[cookie] = item.fields[cookie]
        if context.get("ip"):
            user_data["client_ip_address"] = context["ip"]
        if context.get("userAgent"):
            user_data["client_user_agent"] = context["userAgent"]
        name = message.get("event") or ""
        event: dict = {
            "event_name": (config.get("event_names") or {}).get(name, name),
            "event_time": _unix(message),
            "action_source": config.get("action_source") or "website",
            "user_data": user_data,
            "custom_data": {
                **(message.get("properties") or {}),
                **{k: v for k, v in item.fields.items() if k not in COOKIE_FIELDS},
            },
        }
        if message.get("messageId"):
            event["event_id"] = str(message["messageId"])
        page_url = (context.get("page") or {}).get("url")
        if page_url:
            event["event_source_url"] = page_url
        return event

    def requests(self, items: list[Item], config: dict, credentials: dict, base_url: str):
        version = config.get("api_version") or "v21.0"
        query = urlencode({"access_token": credentials.get("access_token", "")})
        url = f"{base_url.rstrip('/')}/{version}/{config['pixel_id']}/events?{query}"
        headers = {"Content-Type": "application/json"}
        out: list[Outbound] = []
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            payload: dict = {"data": [self._event(i, config) for i in chunk]}
            if config.get("test_event_code"):
                payload["test_event_code"] = config["test_event_code"]
            out.append(
                Outbound("POST", url, headers, json_body(payload), tuple(i.key for i in chunk))
            )
        return out

    def classify(self, status: int, headers, body: bytes, keys: tuple[int, ...]) -> Result:
        if 200 <= status < 300:
            return Result(Verdict.DELIVERED, status)
        try:
            payload = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            payload = {}
        error = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(error, dict):
            return super().classify(status, headers, body, keys)
        text = str(error.get("error_user_msg") or error.get("message") or "")
        code = error.get("code")
        if code is not None:
            text = f"({code}) {text}"
        if error.get("is_transient") or code in TRANSIENT_CODES or status >= 500 or status == 429:
            return Result(Verdict.RETRY, status, text, retry_after(headers))
        return Result(Verdict.PERMANENT, status, text)
