"""Customer.io Journeys: the Track API v2 batch endpoint, ``POST /api/v2/batch``.

Each batch entry is a ``person`` action: ``identify`` for profiles (attributes from the mapped
fields), ``event`` for events (name, unix timestamp, attributes), ``delete`` for erasure. A
person is identified by ``{"id": user_id}`` when known, else ``{"email": email}``. A request
holds at most 100 entries and stays under Customer.io's 500 KB limit. When entries fail, the
answer lists them by ``batch_index``.

Authentication is HTTP Basic with the workspace's site id and Track API key.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import orjson

from .base import Adapter, Item, Outbound, Result, Verdict, json_body, retry_after

MAX_BYTES = 500_000
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$")


def _unix(message: dict) -> int:
    raw = message.get("timestamp")
    try:
        when = datetime.fromisoformat(str(raw))
    except ValueError:
        return int(datetime.now(UTC).timestamp())
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def _identifiers(ids: dict[str, str]) -> dict[str, str]:
    if ids.get("user_id"):
        return {"id": ids["user_id"]}
    if ids.get("email"):
        return {"email": ids["email"]}
    raise ValueError("Customer.io needs a user id or an email address")


class CustomerIo(Adapter):
    key = "customerio"
    label = "Customer.io"
    vendor = "Customer.io"
    docs_url = "https://docs.customer.io/integrations/api/track/"
    supports = frozenset({"events", "profiles", "deletion"})
    needs = ("user_id", "email")  # at least one
    batch_size = 100
    rate_limit = 50.0  # Track API fair use is 100 requests a second
    default_base_url = "https://track.customer.io"
    config_schema = {"type": "object", "properties": {}, "additionalProperties": False}
    field_pattern = r"^[A-Za-z_][A-Za-z0-9_.]{0,149}$"
    field_hint = "attribute names"
    reserved_fields = frozenset({"id", "email", "cio_id"})
    credential_fields = ("site_id", "api_key")
    secret_headers = frozenset({"authorization"})  # Basic site_id:api_key

    def _headers(self, credentials: dict) -> dict[str, str]:
        pair = f"{credentials.get('site_id', '')}:{credentials.get('api_key', '')}"
        return {
            "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
            "Content-Type": "application/json",
        }

    def _entry(self, item: Item) -> dict:
        who = _identifiers(item.identifiers)
        if item.kind == "profile":
            return {
                "type": "person",
                "identifiers": who,
                "action": "identify",
                "attributes": dict(item.fields),
            }
        message = item.message
        entry = {
            "type": "person",
            "identifiers": who,
            "action": "event",
            "name": message.get("event") or "",
            "timestamp": _unix(message),
            "attributes": {**(message.get("properties") or {}), **item.fields},
        }
        if _ULID.match(str(message.get("messageId") or "")):
            entry["id"] = message["messageId"]  # Customer.io deduplicates on a ULID id
        return entry

    def requests(self, items: list[Item], config: dict, credentials: dict, base_url: str):
        url = f"{base_url.rstrip('/')}/api/v2/batch"
        headers = self._headers(credentials)
        out: list[Outbound] = []
        batch: list[bytes] = []
        keys: list[int] = []
        size = len(b'{"batch":[]}')

        def flush() -> None:
            if batch:
                body = b'{"batch":[' + b",".join(batch) + b"]}"
                out.append(Outbound("POST", url, headers, body, tuple(keys)))

        for item in items:
            entry = json_body(self._entry(item))
            if batch and (len(batch) >= self.batch_size or size + len(entry) + 1 > MAX_BYTES):
                flush()
                batch, keys, size = [], [], len(b'{"batch":[]}')
            batch.append(entry)
            keys.append(item.key)
            size += len(entry) + 1
        flush()
        return out

    def deletion(self, identifiers, config, credentials, base_url) -> Outbound:
        entry = {"type": "person", "identifiers": _identifiers(identifiers), "action": "delete"}
        return Outbound(
            "POST",
            f"{base_url.rstrip('/')}/api/v2/batch",
            self._headers(credentials),
            json_body({"batch": [entry]}),
            (),
        )

    def classify(self, status: int, headers, body: bytes, keys: tuple[int, ...]) -> Result:
        try:
            payload = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        errors = payload.get("errors") or []
        text = _describe(payload) or body[:500].decode(errors="replace")
        if 200 <= status < 300:
            failed: dict[int, tuple[Verdict, str]] = {}
            for error in errors:
                index = error.get("batch_index") if isinstance(error, dict) else None
                if isinstance(index, int) and 0 <= index < len(keys):
                    failed[keys[index]] = (Verdict.PERMANENT, _describe({"errors": [error]}))
            note = f"{len(failed)} of {len(keys)} entries refused" if failed else ""
            return Result(Verdict.DELIVERED, status, note, failed=failed)
        if status in (408, 425, 429) or status >= 500:
            return Result(Verdict.RETRY, status, text, retry_after(headers))
        return Result(Verdict.PERMANENT, status, text)


def _describe(payload: dict) -> str:
    """The readable part of a Customer.io error answer."""
    meta = payload.get("meta")
    if isinstance(meta, dict) and meta.get("error"):
        return str(meta["error"])
    parts = []
    for error in payload.get("errors") or []:
        if isinstance(error, dict):
            bits = [str(error[k]) for k in ("reason", "field", "message") if error.get(k)]
            parts.append(": ".join(bits))
    return "; ".join(parts)[:500]
