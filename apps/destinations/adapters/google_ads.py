"""Google Ads offline click conversions: ``POST /{version}/customers/{id}:uploadClickConversions``.

Each conversion names its ``gclid``, the conversion action resource
(``customers/{id}/conversionActions/{action}``), the time as ``yyyy-mm-dd hh:mm:ss+00:00`` and,
when the event has them, ``conversionValue`` and ``currencyCode``. Requests ask for
``partialFailure``: a 200 answer then lists refused conversions in ``partialFailureError``,
whose ``location.fieldPathElements`` give each one's index in ``conversions``.

Headers: ``Authorization: Bearer`` (an OAuth access token), ``developer-token`` and, when the
account is reached through a manager, ``login-customer-id``.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime

import orjson

from .base import Adapter, Item, Outbound, Result, Verdict, json_body, retry_after

DEFAULT_VERSION = "v26"


def _digits(value) -> str:
    return re.sub(r"\D", "", str(value or ""))


def _when(message: dict) -> str:
    raw = message.get("timestamp")
    try:
        when = datetime.fromisoformat(str(raw))
    except ValueError:
        when = datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def _retry_delay(payload) -> float | None:
    """The ``retryDelay`` ("30s") Google puts in quota error details, anywhere in the answer."""
    found = re.search(rb'"retryDelay"\s*:\s*"([0-9.]+)s"', orjson.dumps(payload))
    return float(found.group(1)) if found else None


class GoogleAdsConversions(Adapter):
    key = "google_ads"
    label = "Google Ads offline conversions"
    vendor = "Google"
    docs_url = "https://developers.google.com/google-ads/api/docs/conversions/upload-clicks"
    sells_or_shares = True  # conversions for ad targeting and measurement
    supports = frozenset({"events"})
    needs = ("gclid",)
    batch_size = 2000  # conversions per upload request
    rate_limit = 5.0
    default_base_url = "https://googleads.googleapis.com"
    config_schema = {
        "type": "object",
        "properties": {
            "customer_id": {
                "type": "string",
                "pattern": "^[0-9]{3}-?[0-9]{3}-?[0-9]{4}$",
                "description": "The Google Ads account the conversions belong to.",
            },
            "conversion_action_id": {
                "type": "string",
                "pattern": "^[0-9]+$",
                "description": "Id of the conversion action credited.",
            },
            "login_customer_id": {
                "type": "string",
                "pattern": "^[0-9]{3}-?[0-9]{3}-?[0-9]{4}$",
                "description": "Manager account used to reach the customer, if any.",
            },
            "value_property": {
                "type": "string",
                "default": "revenue",
                "description": "Event property holding the conversion value.",
            },
            "currency_property": {
                "type": "string",
                "default": "currency",
                "description": "Event property holding the ISO 4217 currency code.",
            },
            "api_version": {
                "type": "string",
                "pattern": "^v[0-9]+$",
                "default": DEFAULT_VERSION,
                "description": "Google Ads API version, e.g. v26.",
            },
        },
        "required": ["customer_id", "conversion_action_id"],
        "additionalProperties": False,
    }
    credential_fields = ("developer_token", "access_token")
    secret_headers = frozenset({"authorization", "developer-token"})

    def _conversion(self, item: Item, config: dict, customer: str) -> dict:
        message = item.message
        properties = {**(message.get("properties") or {}), **item.fields}
        conversion: dict = {
            "gclid": item.identifiers.get("gclid", ""),
            "conversionAction": (
                f"customers/{customer}/conversionActions/{config['conversion_action_id']}"
            ),
            "conversionDateTime": _when(message),
        }
        value = properties.get(config.get("value_property") or "revenue")
        if isinstance(value, int | float) and not isinstance(value, bool):
            conversion["conversionValue"] = float(value)
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                conversion["conversionValue"] = float(value)
        currency = properties.get(config.get("currency_property") or "currency")
        if isinstance(currency, str) and len(currency) == 3:
            conversion["currencyCode"] = currency.upper()
        return conversion

    def requests(self, items: list[Item], config: dict, credentials: dict, base_url: str):
        customer = _digits(config["customer_id"])
        version = config.get("api_version") or DEFAULT_VERSION
        url = f"{base_url.rstrip('/')}/{version}/customers/{customer}:uploadClickConversions"
        headers = {
            "Authorization": f"Bearer {credentials.get('access_token', '')}",
            "developer-token": credentials.get("developer_token", ""),
            "Content-Type": "application/json",
        }
        if config.get("login_customer_id"):
            headers["login-customer-id"] = _digits(config["login_customer_id"])
        out: list[Outbound] = []
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            payload = {
                "conversions": [self._conversion(i, config, customer) for i in chunk],
                "partialFailure": True,
            }
            out.append(
                Outbound("POST", url, headers, json_body(payload), tuple(i.key for i in chunk))
            )
        return out

    def classify(self, status: int, headers, body: bytes, keys: tuple[int, ...]) -> Result:
        try:
            payload = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        if 200 <= status < 300:
            partial = payload.get("partialFailureError")
            if not partial:
                return Result(Verdict.DELIVERED, status)
            return self._partial(status, partial, keys)
        error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
        text = error.get("message") or body[:500].decode(errors="replace")
        if error.get("status"):
            text = f"{error['status']}: {text}"
        if status in (408, 425, 429) or status >= 500:
            wait = retry_after(headers)
            if wait is None:
                wait = _retry_delay(payload)
            return Result(Verdict.RETRY, status, text, wait)
        return Result(Verdict.PERMANENT, status, text)

    def _partial(self, status: int, partial: dict, keys) -> Result:
        failed: dict[int, tuple[Verdict, str]] = {}
        for detail in partial.get("details") or []:
            for error in detail.get("errors") or [] if isinstance(detail, dict) else []:
                path = ((error.get("location") or {}).get("fieldPathElements")) or []
                index = next(
                    (
                        p.get("index")
                        for p in path
                        if p.get("fieldName") == "conversions" and isinstance(p.get("index"), int)
                    ),
                    None,
                )
                if index is not None and 0 <= index < len(keys):
                    codes = error.get("errorCode") or {}
                    code = ", ".join(f"{k}={v}" for k, v in codes.items())
                    message = error.get("message") or partial.get("message") or "refused"
                    text = f"{code}: {message}" if code else message
                    failed[keys[index]] = (Verdict.PERMANENT, text)
        note = f"{len(failed)} of {len(keys)} conversions refused"
        if not failed:
            note = f"partial failure not attributable: {partial.get('message', '')}"[:500]
        return Result(Verdict.DELIVERED, status, note, failed=failed)
