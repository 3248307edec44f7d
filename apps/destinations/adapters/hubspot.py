"""HubSpot: contacts through the CRM v3 batch upsert, events as custom behavioral events.

* Profiles: ``POST /crm/v3/objects/contacts/batch/upsert`` with ``idProperty: email`` (up to 100
  inputs). Each input carries ``objectWriteTraceId`` (the item key) so a 207 multi-status answer
  can name the inputs that failed.
* Events: ``POST /events/v3/send``, one occurrence a request, named ``<prefix><event slug>``
  (the fully qualified ``pe<HubID>_<name>`` of an event defined in HubSpot). Only the mapped
  ``fields`` are sent as event properties, since HubSpot refuses properties it does not know.
* Erasure: ``POST /crm/v3/objects/contacts/gdpr-delete`` with ``idProperty: email``.

Authentication is a private-app access token sent as ``Authorization: Bearer``.
"""

from __future__ import annotations

import re
import uuid

import orjson

from .base import Adapter, Item, Outbound, Result, Verdict, json_body, retry_after


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _error_text(payload, fallback: str) -> str:
    if isinstance(payload, dict):
        text = payload.get("message") or ""
        category = payload.get("category") or ""
        return f"{category}: {text}" if category and text else text or fallback
    return fallback


class HubSpot(Adapter):
    key = "hubspot"
    label = "HubSpot"
    vendor = "HubSpot"
    docs_url = "https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/guide"
    supports = frozenset({"events", "profiles", "deletion"})
    needs = ("email",)
    batch_size = 100  # inputs per batch upsert
    rate_limit = 10.0  # private apps: 100 requests per 10 seconds on the lowest tiers
    default_base_url = "https://api.hubapi.com"
    config_schema = {
        "type": "object",
        "properties": {
            "event_name_prefix": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_]*$",
                "description": "Prefix of the custom behavioral event names, e.g. pe1234567_ "
                "(pe<HubID>_). The event name is slugified and appended.",
            },
        },
        "additionalProperties": False,
    }
    field_pattern = r"^[a-z][a-z0-9_]{0,99}$"
    field_hint = "internal property names: lower case, digits and _"
    reserved_fields = frozenset({"email", "hs_object_id"})
    credential_fields = ("access_token",)
    secret_headers = frozenset({"authorization"})

    def _headers(self, credentials: dict) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {credentials.get('access_token', '')}",
            "Content-Type": "application/json",
        }

    def requests(self, items: list[Item], config: dict, credentials: dict, base_url: str):
        origin = base_url.rstrip("/")
        headers = self._headers(credentials)
        out: list[Outbound] = []
        profiles = [i for i in items if i.kind == "profile"]
        events = [i for i in items if i.kind == "event"]
        for start in range(0, len(profiles), self.batch_size):
            chunk = profiles[start : start + self.batch_size]
            inputs = []
            for item in chunk:
                email = item.identifiers.get("email", "")
                inputs.append(
                    {
                        "id": email,
                        "idProperty": "email",
                        "objectWriteTraceId": str(item.key),
                        "properties": {**item.fields, "email": email},
                    }
                )
            out.append(
                Outbound(
                    "POST",
                    f"{origin}/crm/v3/objects/contacts/batch/upsert",
                    headers,
                    json_body({"inputs": inputs}),
                    tuple(i.key for i in chunk),
                )
            )
        prefix = config.get("event_name_prefix", "")
        for item in events:
            message = item.message
            payload: dict = {
                "eventName": prefix + _slug(message.get("event") or "event"),
                "properties": dict(item.fields),
            }
            if item.identifiers.get("email"):
                payload["email"] = item.identifiers["email"]
            utk = item.identifiers.get("hubspotutk") or item.fields.get("hubspotutk")
            if utk:
                payload["utk"] = utk
                payload["properties"].pop("hubspotutk", None)
            if message.get("timestamp"):
                payload["occurredAt"] = message["timestamp"]
            if _is_uuid(message.get("messageId")):
                payload["uuid"] = str(message["messageId"])
            out.append(
                Outbound(
                    "POST", f"{origin}/events/v3/send", headers, json_body(payload), (item.key,)
                )
            )
        return out

    def deletion(self, identifiers, config, credentials, base_url) -> Outbound:
        email = identifiers.get("email")
        if not email:
            raise ValueError("HubSpot erasure needs an email address")
        return Outbound(
            "POST",
            f"{base_url.rstrip('/')}/crm/v3/objects/contacts/gdpr-delete",
            self._headers(credentials),
            json_body({"objectId": email, "idProperty": "email"}),
            (),
        )

    def classify(self, status: int, headers, body: bytes, keys: tuple[int, ...]) -> Result:
        try:
            payload = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            payload = None
        text = _error_text(payload, body[:500].decode(errors="replace"))
        if 200 <= status < 300:
            errors = payload.get("errors") if isinstance(payload, dict) else None
            if not errors:
                return Result(Verdict.DELIVERED, status)
            return self._multi_status(status, payload, errors, keys)
        if status == 429:
            wait = retry_after(headers)
            if wait is None and isinstance(payload, dict):
                wait = 3600.0 if payload.get("policyName") == "DAILY" else 10.0
            return Result(Verdict.RETRY, status, text, wait)
        if status in (408, 425) or status >= 500:
            return Result(Verdict.RETRY, status, text, retry_after(headers))
        return Result(Verdict.PERMANENT, status, text)

    def _multi_status(self, status: int, payload: dict, errors: list, keys) -> Result:
        """A 207: some inputs failed; each error names its inputs' trace ids in ``context``."""
        by_trace = {str(k): k for k in keys}
        failed: dict[int, tuple[Verdict, str]] = {}
        unattributed = []
        for error in errors:
            if not isinstance(error, dict):
                continue
            message = _error_text(error, "rejected by HubSpot")
            verdict = Verdict.RETRY if error.get("category") == "RATE_LIMITS" else Verdict.PERMANENT
            values: list[str] = []
            for value in (error.get("context") or {}).values():
                values.extend(str(v) for v in (value if isinstance(value, list) else [value]))
            if error.get("id") is not None:
                values.append(str(error["id"]))
            hits = [by_trace[v] for v in values if v in by_trace]
            for key in hits:
                failed[key] = (verdict, message)
            if not hits:
                unattributed.append(message)
        note = f"{len(errors)} of {len(keys)} inputs failed"
        if unattributed:
            note += "; not attributable: " + "; ".join(unattributed)[:400]
            if not failed and not payload.get("results"):
                return Result(Verdict.PERMANENT, status, note)
        return Result(Verdict.DELIVERED, status, note, failed=failed)
