"""Braze: profiles and custom events through ``POST /users/track``; erasure via ``/users/delete``.

A person is addressed by ``external_id`` (the user id) when known, else by ``email``, else by a
``user_alias`` built from the anonymous id. Profiles travel in ``attributes`` and events in
``events``; each request carries one kind only, so the ``index`` of a non-fatal error in a
2xx answer names its item. Braze allows 75 objects of each kind a request. An erasure names
the person the same ways, the anonymous id through its ``user_alias`` (the alias-only profile
tracking created).

Authentication is the REST API key sent as ``Authorization: Bearer``. ``base_url`` is the
instance's REST endpoint (``https://rest.iad-01.braze.com`` by default).
"""

from __future__ import annotations

import time

import orjson

from .base import Adapter, Item, Outbound, Result, Verdict, json_body, retry_after


def _reset_wait(headers) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (a unix time), Braze's own throttle hint."""
    raw = (headers.get("x-ratelimit-reset") or "").strip()
    try:
        return max(0.0, float(raw) - time.time())
    except ValueError:
        return None


class Braze(Adapter):
    key = "braze"
    label = "Braze"
    vendor = "Braze"
    docs_url = "https://www.braze.com/docs/api/endpoints/user_data/post_user_track"
    supports = frozenset({"events", "profiles", "deletion"})
    needs = ("user_id", "email", "anonymous_id")  # at least one
    batch_size = 75  # objects of one kind per /users/track request
    rate_limit = 50.0
    default_base_url = "https://rest.iad-01.braze.com"
    config_schema = {
        "type": "object",
        "properties": {
            "alias_label": {
                "type": "string",
                "minLength": 1,
                "description": "Label of the user alias used for people known only by their "
                "anonymous id (default: anonymous_id).",
            },
        },
        "additionalProperties": False,
    }
    field_pattern = r"^[A-Za-z_][A-Za-z0-9_ .-]{0,254}$"
    field_hint = "custom attribute names, not starting with $"
    reserved_fields = frozenset(
        {"external_id", "user_alias", "braze_id", "email", "_update_existing_only"}
    )
    credential_fields = ("api_key",)
    secret_headers = frozenset({"authorization"})

    def _headers(self, credentials: dict) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {credentials.get('api_key', '')}",
            "Content-Type": "application/json",
        }

    def _who(self, item: Item, config: dict) -> dict:
        ids = item.identifiers
        if ids.get("user_id"):
            return {"external_id": ids["user_id"]}
        if ids.get("email"):
            return {"email": ids["email"]}
        alias = {
            "alias_name": ids.get("anonymous_id", ""),
            "alias_label": config.get("alias_label") or "anonymous_id",
        }
        return {"user_alias": alias}

    def _attributes(self, item: Item, config: dict) -> dict:
        who = self._who(item, config)
        record = {**item.fields, **who}
        if "user_alias" in who:
            record["_update_existing_only"] = False  # create the alias-only profile
        return record

    def _event(self, item: Item, config: dict) -> dict:
        message = item.message
        record = {
            **self._who(item, config),
            "name": message.get("event") or "",
            "time": message.get("timestamp") or "",
            "properties": {**(message.get("properties") or {}), **item.fields},
        }
        if "user_alias" in record:
            record["_update_existing_only"] = False
        return record

    def requests(self, items: list[Item], config: dict, credentials: dict, base_url: str):
        url = f"{base_url.rstrip('/')}/users/track"
        headers = self._headers(credentials)
        out: list[Outbound] = []
        for kind, array, build in (
            ("profile", "attributes", self._attributes),
            ("event", "events", self._event),
        ):
            of_kind = [i for i in items if i.kind == kind]
            for start in range(0, len(of_kind), self.batch_size):
                chunk = of_kind[start : start + self.batch_size]
                body = json_body({array: [build(i, config) for i in chunk]})
                out.append(Outbound("POST", url, headers, body, tuple(i.key for i in chunk)))
        return out

    def deletion(self, identifiers, config, credentials, base_url) -> Outbound:
        if identifiers.get("user_id"):
            payload: dict = {"external_ids": [identifiers["user_id"]]}
        elif identifiers.get("email"):
            payload = {
                "email_addresses": [
                    {"email": identifiers["email"], "prioritization": ["most_recently_updated"]}
                ]
            }
        elif identifiers.get("anonymous_id"):
            alias = {
                "alias_name": identifiers["anonymous_id"],
                "alias_label": config.get("alias_label") or "anonymous_id",
            }
            payload = {"user_aliases": [alias]}
        else:
            raise ValueError("Braze erasure needs a user id, an email address or an anonymous id")
        return Outbound(
            "POST",
            f"{base_url.rstrip('/')}/users/delete",
            self._headers(credentials),
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
        text = str(payload.get("message") or body[:500].decode(errors="replace"))
        if 200 <= status < 300:
            failed: dict[int, tuple[Verdict, str]] = {}
            for error in payload.get("errors") or []:
                index = error.get("index") if isinstance(error, dict) else None
                if isinstance(index, int) and 0 <= index < len(keys):
                    failed[keys[index]] = (Verdict.PERMANENT, str(error.get("type") or error))
            note = f"{len(failed)} objects refused" if failed else ""
            return Result(Verdict.DELIVERED, status, note, failed=failed)
        if status == 429:
            wait = retry_after(headers)
            if wait is None:
                wait = _reset_wait(headers)
            return Result(Verdict.RETRY, status, text, wait)
        if status in (408, 425) or status >= 500:
            return Result(Verdict.RETRY, status, text, retry_after(headers))
        return Result(Verdict.PERMANENT, status, text)
