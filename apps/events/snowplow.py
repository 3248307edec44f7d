"""The collection API for Snowplow trackers (tracker protocol v2).

``POST /com.snowplowanalytics.snowplow/tp2`` takes a ``payload_data`` envelope of events;
``GET /i`` takes one event in the query string and answers a 1x1 GIF. Snowplow trackers send
no credentials, so the source's write key is the tracker's app id (``aid``). Each event is
turned into the console's Segment-shaped message and stored through the same path: page views
become ``page`` calls, structured events ``track`` calls named by their action, and
self-describing events ``track`` calls named after their schema (``order_completed`` →
``Order Completed``), with contexts (``co`` or base64 ``cx``) kept under
``context.snowplow_contexts`` and the tracker's user ids (``uid``, ``duid``, ``nuid``) under
``context.snowplow_ids``, so that every one of them is checked against the suppression list.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re

import orjson
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from martech.common import sharedcache

from .collect import MAX_MESSAGES, admit, json_body, not_post, refusal, store
from .errors import EventsErrorCode, Refused
from .subjects import SNOWPLOW_IDS

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
IGLU = re.compile(r"^iglu:([\w.-]+)/([\w.-]+)/jsonschema/\d+-\d+-\d+$")
STRUCTURED = {
    "se_ca": "category",
    "se_ac": "action",
    "se_la": "label",
    "se_pr": "property",
    "se_va": "value",
}
# The tracker's user ids, by their enriched names.
TRACKER_IDS = {"uid": "user_id", "duid": "domain_userid", "nuid": "network_userid"}


def _json_field(event: dict, plain: str, encoded: str, name: str):
    if event.get(plain):
        text = event[plain]
    elif event.get(encoded):
        raw = event[encoded]
        if not isinstance(raw, str):
            raise Refused(EventsErrorCode.INVALID_ENCODING, f"{encoded} is base64 JSON text.")
        try:
            padded = (raw + "=" * (-len(raw) % 4)).encode()
            text = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise Refused(
                EventsErrorCode.INVALID_ENCODING, f"{encoded} is not base64 JSON."
            ) from None
    else:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # also text that is not a string
        raise Refused(EventsErrorCode.INVALID_JSON, f"{name} is not valid JSON.") from None
    if not isinstance(value, dict):
        raise Refused(EventsErrorCode.INVALID_FIELD, f"{name} is a JSON object.")
    return value


def _title(schema: str) -> str:
    match = IGLU.match(schema) if isinstance(schema, str) else None
    if not match:
        raise Refused(
            EventsErrorCode.INVALID_SCHEMA, "A self-describing event names an iglu: schema."
        )
    return " ".join(part.capitalize() for part in re.split(r"[_\-\s]+", match.group(2)) if part)


def _ms(value) -> str | None:
    if value in (None, ""):
        return None
    try:
        stamp = dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise Refused(EventsErrorCode.INVALID_TIMESTAMP, "dtm and stm are milliseconds.") from None
    return stamp.isoformat()


def to_message(event: dict) -> dict:
    """One tracker event as a Segment-shaped message (``Refused`` if unusable)."""
    if not isinstance(event, dict):
        raise Refused(EventsErrorCode.INVALID_MESSAGE, "An event is a JSON object.")
    kind = event.get("e")
    page = {
        k: event[f]
        for k, f in (("url", "url"), ("referrer", "refr"), ("title", "page"))
        if event.get(f)
    }
    contexts = _json_field(event, "co", "cx", "contexts")
    # Every user id the tracker sent, whichever the message is keyed by: the suppression list
    # is asked about each of them.
    ids = {name: event[field] for field, name in TRACKER_IDS.items() if event.get(field)}
    message = {
        "messageId": event.get("eid"),
        "anonymousId": event.get("duid") or event.get("nuid") or event.get("sid"),
        "userId": event.get("uid"),
        "timestamp": _ms(event.get("dtm")),
        "sentAt": _ms(event.get("stm")),
        "context": {
            "page": page,
            "library": {"name": "snowplow", "version": event.get("tv", "")},
            **({"snowplow_contexts": contexts.get("data", contexts)} if contexts else {}),
            **({SNOWPLOW_IDS: ids} if ids else {}),
        },
    }
    if kind == "pv":
        message.update(
            type="page",
            name=event.get("page", ""),
            properties={
                "url": page.get("url", ""),
                "title": page.get("title", ""),
                "referrer": page.get("referrer", ""),
            },
        )
    elif kind == "pp":
        message.update(type="track", event="Page Ping", properties={"url": page.get("url", "")})
    elif kind == "se":
        if not event.get("se_ac"):
            raise Refused(
                EventsErrorCode.MISSING_EVENT, "A structured event needs se_ac (its action)."
            )
        properties = {name: event[key] for key, name in STRUCTURED.items() if key in event}
        if "value" in properties:
            try:
                properties["value"] = float(properties["value"])
            except (TypeError, ValueError):
                raise Refused(EventsErrorCode.INVALID_VALUE, "se_va is a number.") from None
        message.update(type="track", event=event["se_ac"], properties=properties)
    elif kind == "ue":
        wrapper = _json_field(event, "ue_pr", "ue_px", "the self-describing event")
        inner = (wrapper or {}).get("data") if isinstance(wrapper, dict) else None
        if not isinstance(inner, dict) or not isinstance(inner.get("data"), dict):
            raise Refused(
                EventsErrorCode.INVALID_EVENT, "ue_pr/ue_px carries {schema, data: {schema, data}}."
            )
        message.update(
            type="track", event=_title(inner.get("schema", "")), properties=inner["data"]
        )
        message["context"]["snowplow_schema"] = inner["schema"]
    elif kind in ("tr", "ti"):
        fields = {k[3:]: v for k, v in event.items() if k.startswith(f"{kind}_")}
        message.update(
            type="track",
            event="Transaction" if kind == "tr" else "Transaction Item",
            properties=fields,
        )
    else:
        raise Refused(EventsErrorCode.INVALID_TYPE, f"Unknown Snowplow event type {kind!r}.")
    return {k: v for k, v in message.items() if v not in (None, "")}


def _accept(request, events: list, received) -> tuple[int, list, str]:
    if not events:
        raise Refused(EventsErrorCode.INVALID_PAYLOAD, "No events.")
    if len(events) > MAX_MESSAGES:
        raise Refused(EventsErrorCode.BATCH_TOO_LARGE, f"At most {MAX_MESSAGES} events a request.")
    keys = {e.get("aid") for e in events if isinstance(e, dict) and isinstance(e.get("aid"), str)}
    key = next(iter(keys)) if len(keys) == 1 else ""
    source, origin = admit(request, key or "", how="as the tracker's app id (aid)")
    valid, positions, rejected = [], [], []
    for index, event in enumerate(events):
        try:
            valid.append(to_message(event))
            positions.append(index)
        except Refused as exc:
            rejected.append((index, exc.code, exc.message))
    gpc = request.headers.get("Sec-GPC", "").strip() == "1"
    stored, more = store(
        source, valid, kind=None, shared={}, received=received, batch_sent=None, gpc=gpc
    )
    rejected += [(positions[r.index], r.code, r.message) for r in more]
    return stored, sorted(rejected), origin


@csrf_exempt
@sharedcache.snapshot()
def tp2(request):
    """``POST /com.snowplowanalytics.snowplow/tp2``: a payload_data envelope."""
    from .collect import preflight

    if request.method == "OPTIONS":
        return preflight(request)
    if request.method != "POST":
        return not_post("Send events with POST.")
    received = timezone.now()
    try:
        body = json_body(request)
        if not isinstance(body.get("data"), list):
            raise Refused(
                EventsErrorCode.INVALID_PAYLOAD, "Expected {schema: payload_data, data: [...]}."
            )
        if "payload_data" not in str(body.get("schema", "")):
            raise Refused(
                EventsErrorCode.INVALID_PAYLOAD, "The schema must be Snowplow's payload_data."
            )
        _, rejected, origin = _accept(request, body["data"], received)
    except Refused as exc:
        return refusal(exc)
    payload = {"success": True}
    if rejected:
        payload["rejected"] = [{"index": i, "code": c, "message": m} for i, c, m in rejected]
    response = HttpResponse(orjson.dumps(payload), content_type="application/json")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    return response


@csrf_exempt
@sharedcache.snapshot()
def pixel(request):
    """``GET /i?e=pv&aid=<write key>&…``: one event; a transparent GIF back."""
    if request.method != "GET":
        return not_post("The pixel takes GET.")
    try:
        _, rejected, _ = _accept(request, [request.GET.dict()], timezone.now())
    except Refused as exc:
        return refusal(exc)
    if rejected:
        return refusal(Refused(rejected[0][1], rejected[0][2]))
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response
