"""Salesforce: profiles upserted with sObject Collections, events inserted as records.

* Profiles: ``PATCH /services/data/{version}/composite/sobjects/{object}/{external_id_field}``
  with ``allOrNone: false`` and up to 200 records. The answer is a list of results in request
  order; records with ``success: false`` are permanent failures of their items.
* Events (only when ``event_object`` is configured, e.g. a platform event ``Web_Event__e`` or a
  custom object): ``POST /services/data/{version}/sobjects/{event_object}``, one record a request.
* Erasure: ``DELETE /services/data/{version}/sobjects/{object}/{external_id_field}/{value}``.

Authentication is an OAuth access token as ``Authorization: Bearer``. Requests go to the org's
own instance: ``base_url`` when it is overridden, otherwise the configured ``instance_url``
(``https://<MyDomain>.my.salesforce.com``).
"""

from __future__ import annotations

from urllib.parse import quote

import orjson

from .base import Adapter, Item, Outbound, Result, Verdict, json_body, retry_after

RETRY_CODES = {"REQUEST_LIMIT_EXCEEDED", "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"}


def _errors_text(errors) -> tuple[str, set[str]]:
    """Readable text and the error codes of a Salesforce error list."""
    parts, codes = [], set()
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            code = error.get("errorCode") or error.get("statusCode") or ""
            message = error.get("message", "")
            codes.add(code)
            parts.append(f"{code}: {message}" if code else message)
    return "; ".join(parts)[:500], codes


class Salesforce(Adapter):
    key = "salesforce"
    label = "Salesforce"
    vendor = "Salesforce"
    docs_url = (
        "https://developer.salesforce.com/docs/platform/api-rest/guide/"
        "resources-composite-sobjects-collections-upsert.html"
    )
    # Events only when ``event_object`` is configured; see ``supports_for``.
    supports = frozenset({"events", "profiles", "deletion"})
    needs = ("email",)
    batch_size = 200  # records per sObject Collections request
    rate_limit = 10.0
    default_base_url = "https://login.salesforce.com"
    config_schema = {
        "type": "object",
        "properties": {
            "instance_url": {
                "type": "string",
                "pattern": "^https://",
                "description": "The org's My Domain URL, e.g. https://acme.my.salesforce.com.",
            },
            "api_version": {
                "type": "string",
                "pattern": "^v[0-9]+\\.[0-9]$",
                "default": "v60.0",
                "description": "REST API version, e.g. v60.0.",
            },
            "object": {
                "type": "string",
                "pattern": "^[A-Za-z][A-Za-z0-9_]*$",
                "default": "Contact",
                "description": "sObject that holds people.",
            },
            "external_id_field": {
                "type": "string",
                "pattern": "^[A-Za-z][A-Za-z0-9_]*$",
                "default": "Email",
                "description": "Field records are matched on (an External ID or idLookup field).",
            },
            "event_object": {
                "type": "string",
                "pattern": "^[A-Za-z][A-Za-z0-9_]*$",
                "description": "Platform event or custom object events are inserted into; "
                "without it events are not sent.",
            },
        },
        "additionalProperties": False,
    }
    field_pattern = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"
    field_hint = "API names such as LastName or Tier__c"
    reserved_fields = frozenset({"Id", "attributes"})
    credential_fields = ("access_token",)
    secret_headers = frozenset({"authorization"})

    def supports_for(self, config: dict) -> frozenset[str]:
        """What this destination can take with this configuration."""
        if config.get("event_object"):
            return self.supports
        return self.supports - {"events"}

    def _root(self, config: dict, base_url: str) -> str:
        origin = base_url.rstrip("/")
        if origin == self.default_base_url and config.get("instance_url"):
            origin = config["instance_url"].rstrip("/")
        return f"{origin}/services/data/{config.get('api_version') or 'v60.0'}"

    def _headers(self, credentials: dict) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {credentials.get('access_token', '')}",
            "Content-Type": "application/json",
        }

    def _match_value(self, item_ids: dict, fields: dict, external_id_field: str):
        if fields.get(external_id_field):
            return fields[external_id_field]
        if external_id_field.lower() == "email":
            return item_ids.get("email")
        return item_ids.get("user_id")

    def requests(self, items: list[Item], config: dict, credentials: dict, base_url: str):
        root = self._root(config, base_url)
        headers = self._headers(credentials)
        sobject = config.get("object") or "Contact"
        match = config.get("external_id_field") or "Email"
        out: list[Outbound] = []
        profiles = [i for i in items if i.kind == "profile"]
        for start in range(0, len(profiles), self.batch_size):
            chunk = profiles[start : start + self.batch_size]
            records = []
            for item in chunk:
                record = {"attributes": {"type": sobject}, **item.fields}
                value = self._match_value(item.identifiers, item.fields, match)
                if value:
                    record[match] = value
                records.append(record)
            out.append(
                Outbound(
                    "PATCH",
                    f"{root}/composite/sobjects/{sobject}/{match}",
                    headers,
                    json_body({"allOrNone": False, "records": records}),
                    tuple(i.key for i in chunk),
                )
            )
        event_object = config.get("event_object")
        if event_object:
            for item in (i for i in items if i.kind == "event"):
                out.append(
                    Outbound(
                        "POST",
                        f"{root}/sobjects/{event_object}",
                        headers,
                        json_body(dict(item.fields)),
                        (item.key,),
                    )
                )
        return out

    def deletion(self, identifiers, config, credentials, base_url) -> Outbound:
        sobject = config.get("object") or "Contact"
        match = config.get("external_id_field") or "Email"
        value = self._match_value(identifiers, {}, match)
        if not value:
            raise ValueError(f"Salesforce erasure needs the {match} of the person")
        return Outbound(
            "DELETE",
            f"{self._root(config, base_url)}/sobjects/{sobject}/{match}/{quote(value, safe='')}",
            self._headers(credentials),
            b"",
            (),
        )

    def classify(self, status: int, headers, body: bytes, keys: tuple[int, ...]) -> Result:
        try:
            payload = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            payload = None
        if 200 <= status < 300:
            if not isinstance(payload, list):
                return Result(Verdict.DELIVERED, status)
            failed: dict[int, tuple[Verdict, str]] = {}
            for index, outcome in enumerate(payload[: len(keys)]):
                if isinstance(outcome, dict) and not outcome.get("success", True):
                    text, codes = _errors_text(outcome.get("errors"))
                    verdict = Verdict.RETRY if codes & RETRY_CODES else Verdict.PERMANENT
                    failed[keys[index]] = (verdict, text or "refused")
            note = f"{len(failed)} of {len(keys)} records refused" if failed else ""
            return Result(Verdict.DELIVERED, status, note, failed=failed)
        text, codes = _errors_text(payload)
        text = text or body[:500].decode(errors="replace")
        if status == 404 and not keys:
            return Result(Verdict.DELIVERED, status, "already absent")
        if codes & RETRY_CODES or status in (408, 425, 429) or status >= 500:
            return Result(Verdict.RETRY, status, text, retry_after(headers))
        return Result(Verdict.PERMANENT, status, text)
