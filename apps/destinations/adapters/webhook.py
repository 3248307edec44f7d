"""A generic signed webhook: JSON batches to any HTTPS endpoint, signed with HMAC-SHA256.

A batch is ``{"batch": [...]}``; each entry is the Segment-shaped message with ``kind``
(``event`` or ``profile``), ``identifiers`` (who it is about, by type: ``email``,
``user_id`` …) and ``fields`` (the destination's mappings applied).

An erasure is POSTed as ``{"type": "delete", "identifiers": {"<type>": "<value>", ...}}``,
one value of each type a call: a person known by two emails or two anonymous ids is erased in
as many calls, so every identifier reaches the receiver. The receiver answers 2xx when done,
or 202 with ``{"status_url": ...}`` when it erases later: the console then GETs that URL
(signed over an empty body) until it answers ``{"status": "done"}``.

The receiver checks ``X-Martech-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 of ``"<t>.<raw body>"`` with the destination's signing secret, and refuses old
timestamps to stop replays.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import orjson

from .base import Adapter, DeletionAnswer, Item, Outbound, json_body


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class Webhook(Adapter):
    key = "webhook"
    label = "Signed webhook"
    vendor = "Any HTTPS endpoint"
    docs_url = ""
    supports = frozenset({"events", "profiles", "deletion"})
    batch_size = 100
    rate_limit = 20.0
    config_schema = {
        "type": "object",
        "properties": {
            "url": {
                "type": "string",
                "format": "uri",
                "pattern": "^https?://",
                "description": "Where batches are POSTed.",
            },
            "deletion_url": {
                "type": "string",
                "pattern": "^https?://",
                "description": "Where erasures are POSTed (default: url).",
            },
            "requests_per_second": {
                "type": "integer",
                "minimum": 1,
                "maximum": 1000,
                "description": "What the receiver can take (default 20).",
            },
        },
        "required": ["url"],
        "additionalProperties": False,
    }
    credential_fields = ("signing_secret",)
    # The signature is an HMAC of the body under the signing secret.
    secret_headers = frozenset({"x-martech-signature"})

    def rate_for(self, config: dict) -> float:
        return float(config.get("requests_per_second") or self.rate_limit)

    def _post(self, url: str, payload: dict, credentials: dict, keys) -> Outbound:
        body = json_body(payload)
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "MarTech-Console-Webhook/1",
            "X-Martech-Signature": signature(credentials.get("signing_secret", ""), stamp, body),
        }
        return Outbound("POST", url, headers, body, tuple(keys))

    def requests(self, items: list[Item], config: dict, credentials: dict, base_url: str):
        # Who each item is about, by every identifier it carries: a synced row's subject is
        # in no message field unless it is a user id.
        batch = [
            {
                **item.message,
                "kind": item.kind,
                "identifiers": item.identifiers,
                "fields": item.fields,
            }
            for item in items
        ]
        return [self._post(config["url"], {"batch": batch}, credentials, [i.key for i in items])]

    def deletion(self, identifiers, config, credentials, base_url):
        url = config.get("deletion_url") or config["url"]
        return self._post(url, {"type": "delete", "identifiers": identifiers}, credentials, ())

    def deletion_answer(self, status, headers, body) -> DeletionAnswer:
        if status == 202:
            try:
                url = orjson.loads(body).get("status_url", "")
            except (orjson.JSONDecodeError, AttributeError):
                url = ""
            if url:
                return DeletionAnswer("waiting", receipt=url)
        return super().deletion_answer(status, headers, body)

    def deletion_poll(self, receipt, config, credentials, base_url) -> Outbound | None:
        request = self._post(receipt, {}, credentials, ())
        stamp = int(time.time())
        headers = {
            **request.headers,
            "X-Martech-Signature": signature(credentials.get("signing_secret", ""), stamp, b""),
        }
        return Outbound("GET", receipt, headers, b"", ())

    def deletion_poll_answer(self, status, headers, body, receipt) -> DeletionAnswer:
        if 200 <= status < 300:
            try:
                state = orjson.loads(body).get("status", "")
            except (orjson.JSONDecodeError, AttributeError):
                state = ""
            if state == "done":
                return DeletionAnswer("done", receipt=receipt)
            if state == "failed":
                return DeletionAnswer("refused", message=body[:300].decode(errors="replace"))
            return DeletionAnswer("waiting", receipt=receipt)
        return super().deletion_poll_answer(status, headers, body, receipt)
