"""A generic signed webhook: JSON batches to any HTTPS endpoint, signed with HMAC-SHA256.

The receiver checks ``X-Martech-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 of ``"<t>.<raw body>"`` with the destination's signing secret, and refuses old
timestamps to stop replays.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from .base import Adapter, Item, Outbound, json_body


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
            "url": {"type": "string", "format": "uri", "pattern": "^https?://",
                    "description": "Where batches are POSTed."},
            "deletion_url": {"type": "string", "pattern": "^https?://",
                             "description": "Where erasures are POSTed (default: url)."},
            "requests_per_second": {"type": "integer", "minimum": 1, "maximum": 1000,
                                    "description": "What the receiver can take (default 20)."},
        },
        "required": ["url"],
        "additionalProperties": False,
    }  # fmt: skip
    credential_fields = ("signing_secret",)

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
        batch = [{**item.message, "kind": item.kind, "fields": item.fields} for item in items]
        return [self._post(config["url"], {"batch": batch}, credentials,
                           [i.key for i in items])]  # fmt: skip

    def deletion(self, identifiers, config, credentials, base_url):
        url = config.get("deletion_url") or config["url"]
        return self._post(url, {"type": "delete", "identifiers": identifiers}, credentials, ())
