"""Amplitude: events through the HTTP V2 API, ``POST /2/httpapi``; erasure via the User Privacy API.

Events carry ``event_type``, ``user_id``, ``device_id`` (the anonymous id), ``time`` in
milliseconds, ``event_properties``, ``user_properties`` (the mapped fields) and ``insert_id``
(the message id, which Amplitude deduplicates on for seven days). Profiles become ``$identify``
events that ``$set`` the mapped fields. The project API key travels in the body.

A 400 refuses the whole request; when it lists the offending events (by index) those items are
permanent failures and the rest are sent again. Erasure is ``POST /api/2/deletions/users`` with
HTTP Basic ``api_key:secret_key``; Amplitude serves it from ``amplitude.com`` (EU:
``analytics.eu.amplitude.com``) rather than the ingestion host, so the default ingestion origins
map to those, and any other ``base_url`` is used as given.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson

from .base import Adapter, DeletionAnswer, Item, Outbound, Result, Verdict, json_body, retry_after

PRIVACY_ORIGINS = {
    "https://api2.amplitude.com": "https://amplitude.com",
    "https://api.eu.amplitude.com": "https://analytics.eu.amplitude.com",
}
THROTTLE_WAIT = 30.0  # Amplitude's advice for a throttled user or device


def _millis(message: dict) -> int:
    raw = message.get("timestamp")
    try:
        when = datetime.fromisoformat(str(raw))
    except ValueError:
        when = datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


class Amplitude(Adapter):
    key = "amplitude"
    label = "Amplitude"
    vendor = "Amplitude"
    docs_url = "https://amplitude.com/docs/apis/analytics/http-v2"
    supports = frozenset({"events", "profiles", "deletion"})
    needs = ("user_id", "anonymous_id")  # at least one
    batch_size = 1000  # Amplitude: fewer than 2000 events and under 1 MB a request
    rate_limit = 10.0
    default_base_url = "https://api2.amplitude.com"
    config_schema = {
        "type": "object",
        "properties": {
            "min_id_length": {
                "type": "integer",
                "minimum": 1,
                "description": "Shortest user_id/device_id Amplitude accepts (its default is 5).",
            },
            "requester": {
                "type": "string",
                "description": "Who is named as the requester of erasures (audit trail).",
            },
        },
        "additionalProperties": False,
    }
    credential_fields = ("api_key", "secret_key")
    # Events carry the API key in the body; the privacy API takes Basic api_key:secret_key.
    secret_headers = frozenset({"authorization"})
    secret_body_fields = ("api_key",)

    def _event(self, item: Item) -> dict:
        message = item.message
        event: dict = {"time": _millis(message)}
        if item.identifiers.get("user_id"):
            event["user_id"] = item.identifiers["user_id"]
        if item.identifiers.get("anonymous_id"):
            event["device_id"] = item.identifiers["anonymous_id"]
        if message.get("messageId"):
            event["insert_id"] = str(message["messageId"])
        context = message.get("context") or {}
        if context.get("ip"):
            event["ip"] = context["ip"]
        if item.kind == "profile":
            event["event_type"] = "$identify"
            event["user_properties"] = {"$set": dict(item.fields)}
        else:
            event["event_type"] = message.get("event") or ""
            event["event_properties"] = dict(message.get("properties") or {})
            if item.fields:
                event["user_properties"] = dict(item.fields)
        return event

    def requests(self, items: list[Item], config: dict, credentials: dict, base_url: str):
        url = f"{base_url.rstrip('/')}/2/httpapi"
        headers = {"Content-Type": "application/json", "Accept": "*/*"}
        out: list[Outbound] = []
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            payload: dict = {
                "api_key": credentials.get("api_key", ""),
                "events": [self._event(i) for i in chunk],
            }
            if config.get("min_id_length"):
                payload["options"] = {"min_id_length": config["min_id_length"]}
            out.append(
                Outbound("POST", url, headers, json_body(payload), tuple(i.key for i in chunk))
            )
        return out

    def deletion(self, identifiers, config, credentials, base_url) -> Outbound:
        if not identifiers.get("user_id"):
            raise ValueError("Amplitude deletes by user id only")
        origin = base_url.rstrip("/")
        origin = PRIVACY_ORIGINS.get(origin, origin)
        pair = f"{credentials.get('api_key', '')}:{credentials.get('secret_key', '')}"
        payload = {
            "user_ids": [identifiers["user_id"]],
            "requester": config.get("requester") or "MarTech Console",
        }
        return Outbound(
            "POST",
            f"{origin}/api/2/deletions/users",
            {
                "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
                "Content-Type": "application/json",
            },
            json_body(payload),
            (),
        )

    def classify(self, status: int, headers, body: bytes, keys: tuple[int, ...]) -> Result:
        try:
            payload = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        text = str(payload.get("error") or body[:500].decode(errors="replace"))
        if 200 <= status < 300:
            return Result(Verdict.DELIVERED, status)
        if status == 400:
            return self._refused(status, payload, text, keys)
        if status == 429:
            wait = retry_after(headers)
            return Result(Verdict.RETRY, status, text, THROTTLE_WAIT if wait is None else wait)
        if status in (408, 425) or status >= 500:
            return Result(Verdict.RETRY, status, text, retry_after(headers))
        return Result(Verdict.PERMANENT, status, text)

    def _refused(self, status: int, payload: dict, text: str, keys) -> Result:
        """A 400 names the invalid events by index: those fail, the others go again."""
        bad: dict[int, list[str]] = {}
        for group in ("events_with_invalid_fields", "events_with_missing_fields"):
            problem = "invalid" if group == "events_with_invalid_fields" else "missing"
            for field_name, indexes in (payload.get(group) or {}).items():
                for index in indexes if isinstance(indexes, list) else []:
                    if isinstance(index, int) and 0 <= index < len(keys):
                        bad.setdefault(index, []).append(f"{problem} {field_name}")
        if not bad:
            return Result(Verdict.PERMANENT, status, text)
        failed = {
            keys[i]: (Verdict.PERMANENT, f"{text}: {', '.join(why)}") for i, why in bad.items()
        }
        note = f"{text}; invalid event indexes {sorted(bad)}"
        if len(bad) == len(keys):
            return Result(Verdict.PERMANENT, status, note, failed=failed)
        return Result(Verdict.RETRY, status, note, failed=failed)

    # Amplitude erases in a daily job: the answer names the day and a status (staging,
    # submitted, done); the day's jobs are listed by GET /api/2/deletions/users.
    def deletion_answer(self, status, headers, body) -> DeletionAnswer:
        if status == 200:
            try:
                job = orjson.loads(body)
            except orjson.JSONDecodeError:
                job = {}
            if isinstance(job, dict) and job.get("day"):
                if job.get("status") == "done":
                    return DeletionAnswer("done", receipt=f"deletion job {job['day']}")
                return DeletionAnswer("waiting", receipt=str(job["day"]))
        return super().deletion_answer(status, headers, body)

    def _privacy_headers(self, credentials: dict) -> dict:
        pair = f"{credentials.get('api_key', '')}:{credentials.get('secret_key', '')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def deletion_poll(self, receipt, config, credentials, base_url) -> Outbound | None:
        origin = base_url.rstrip("/")
        origin = PRIVACY_ORIGINS.get(origin, origin)
        url = f"{origin}/api/2/deletions/users?start_day={receipt}&end_day={receipt}"
        return Outbound("GET", url, self._privacy_headers(credentials), b"", ())

    def deletion_poll_answer(self, status, headers, body, receipt) -> DeletionAnswer:
        if status == 200:
            try:
                jobs = orjson.loads(body)
            except orjson.JSONDecodeError:
                jobs = []
            mine = [j for j in jobs if isinstance(j, dict) and j.get("day") == receipt]
            if mine and all(j.get("status") == "done" for j in mine):
                return DeletionAnswer("done", receipt=f"deletion job {receipt}: done")
            return DeletionAnswer("waiting", receipt=receipt)
        return super().deletion_poll_answer(status, headers, body, receipt)
