"""The collection API, compatible with Segment's HTTP Tracking API.

``POST /v1/batch`` and ``/v1/{track,identify,page,screen,group,alias}``. The write key comes
by HTTP Basic (``writeKey:``) or as ``writeKey`` in the body; bodies may be gzipped. Every
accepted message is stored (one transaction) before the answer, which is exactly HTTP 200;
a message resent with the same ``messageId`` by the same source is stored once.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
import uuid
import zlib
from dataclasses import dataclass

import orjson
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from apps.consent import gate
from martech.common import context as actor_context
from martech.common import sharedcache

from .choices import MessageType
from .errors import EventsErrorCode, Refused
from .models import Source
from .services import authenticate_key, remembered_source_id
from .store import NewEvent, insert
from .subjects import message_subjects

log = logging.getLogger(__name__)
MAX_MESSAGE = 32 * 1024
MAX_BATCH = 500 * 1024
MAX_MESSAGES = 2500
TYPES = frozenset(MessageType.values)
# An escaped NUL (\u0000 after an even number of backslashes): PostgreSQL's text and jsonb
# cannot hold it.
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# A message nests at most this deep: what the pipeline, the API and the vendors' bodies wrap
# around it stays far below orjson's limit of 255 levels.
MAX_DEPTH = 64
# The parts of a message that are JSON objects when present (Segment's spec), and the ids,
# which are strings (a number is taken as its decimal string).
OBJECT_FIELDS = ("context", "traits", "properties", "integrations")
CONTEXT_OBJECTS = ("traits", "page", "campaign", "device")
ID_FIELDS = ("userId", "anonymousId", "previousId", "groupId")
MAX_ID = 200
# The window a message's timestamp must fall in, around the moment the API received it. A
# device clock outside it is not believed: the event is dated when it was received, and the
# client's value is kept in ``originalTimestamp``.
FUTURE_LIMIT = dt.timedelta(hours=24)
PAST_LIMIT = dt.timedelta(days=730)


@dataclass(frozen=True)
class Rejection:
    index: int
    message_id: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "messageId": self.message_id,
            "code": self.code,
            "message": self.message,
        }


def refusal(exc: Refused, origin: str = "") -> HttpResponse:
    """The answer to a refused request: ``{"success": false, "code", "message"}``."""
    response = JsonResponse(
        {"success": False, "code": exc.code, "message": exc.message}, status=exc.status
    )
    for key, value in exc.headers.items():
        response[key] = value
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def not_post(message: str) -> HttpResponse:
    return refusal(Refused(EventsErrorCode.METHOD_NOT_ALLOWED, message, status=405))


def _body(request) -> bytes:
    try:
        raw = request.body
    except RequestDataTooBig:  # past DATA_UPLOAD_MAX_MEMORY_SIZE: Django read none of it
        raise Refused(
            EventsErrorCode.PAYLOAD_TOO_LARGE, "The body is larger than 500 KB."
        ) from None
    if len(raw) > MAX_BATCH and request.headers.get("Content-Encoding", "") != "gzip":
        raise Refused(EventsErrorCode.PAYLOAD_TOO_LARGE, "The body is larger than 500 KB.")
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        try:
            inflater = zlib.decompressobj(wbits=31)
            raw = inflater.decompress(raw, MAX_BATCH + 1)
        except zlib.error:
            raise Refused(EventsErrorCode.INVALID_GZIP, "The body is not valid gzip.") from None
        if len(raw) > MAX_BATCH or inflater.unconsumed_tail:
            raise Refused(
                EventsErrorCode.PAYLOAD_TOO_LARGE, "The body is larger than 500 KB unzipped."
            )
    return raw


# The body fields a write key may come in; each is removed before a message is stored.
WRITE_KEY_FIELDS = ("writeKey", "write_key")


def _write_key(request, body: dict) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            raise Refused(
                EventsErrorCode.INVALID_WRITE_KEY,
                "The Basic credentials are not valid.",
                status=401,
            ) from None
        return decoded.split(":", 1)[0]
    key = next((body[f] for f in WRITE_KEY_FIELDS if body.get(f)), "")
    return key if isinstance(key, str) else ""


def _origin(request, source: Source) -> str:
    origin = request.headers.get("Origin", "")
    if not origin:
        return ""
    if origin.lower().rstrip("/") not in source.allowed_origins:
        raise Refused(
            EventsErrorCode.ORIGIN_NOT_ALLOWED,
            f"{origin} may not send events for this source.",
            status=403,
        )
    return origin


def _rate_key(source_id: int, second: int) -> str:
    return f"events:rate:{source_id}:{second}"


def _rate_limit(source: Source, second: int) -> None:
    if sharedcache.hit(_rate_key(source.pk, second), window=2) > source.rate_limit:
        raise Refused(
            EventsErrorCode.RATE_LIMITED,
            f"More than {source.rate_limit} requests a second for this source.",
            status=429,
            headers={"Retry-After": "1"},
        )


def _when(value, field: str) -> dt.datetime | None:
    """The moment an ISO 8601 value names, in UTC; ``OUT_OF_RANGE`` when it lies beyond what a
    date-time can hold (year 9999 at -14:00); refused when it is not a date-time."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise Refused(EventsErrorCode.INVALID_TIMESTAMP, f"{field} is not an ISO 8601 date-time.")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(
            EventsErrorCode.INVALID_TIMESTAMP, f"{field} is not an ISO 8601 date-time."
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        return OUT_OF_RANGE


# A moment no window around now holds.
OUT_OF_RANGE = dt.datetime.max.replace(tzinfo=dt.UTC)


def _believable(moment: dt.datetime | None, received: dt.datetime) -> bool:
    return moment is not None and received - PAST_LIMIT <= moment <= received + FUTURE_LIMIT


def event_time(original, sent, received: dt.datetime) -> dt.datetime:
    """When the event happened, as Segment dates it: the device's ``timestamp`` corrected by
    the delay between its ``sentAt`` and our ``receivedAt``; ``received`` when the device
    sent no time, or one outside the window around ``received``."""
    if original is None:
        return received
    when = original
    if _believable(sent, received):
        try:
            when = received - (sent - original)
        except OverflowError:
            return received
    return when if _believable(when, received) else received


def _depth_over(value, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` objects or arrays."""
    level = [value]
    for _ in range(limit + 1):
        level = [
            item
            for node in level
            if isinstance(node, dict | list)
            for item in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    return True


def _id(message: dict, name: str) -> str:
    """The message's id field as a string ("" when absent); refused when it is not one."""
    value = message.get(name)
    if value is None:
        return ""
    if type(value) is not str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Refused(EventsErrorCode.INVALID_IDENTITY, f"{name} must be a string.")
        value = str(value)
    value = value.strip()
    if len(value) > MAX_ID or "\x00" in value:
        raise Refused(
            EventsErrorCode.INVALID_IDENTITY, f"{name} is text of at most {MAX_ID} characters."
        )
    return value


def _shape(message: dict) -> None:
    """Refuse a message whose objects are not objects (``Refused``)."""
    for name in OBJECT_FIELDS:
        value = message.get(name)
        if value is not None and not isinstance(value, dict):
            raise Refused(EventsErrorCode.INVALID_FIELD, f"{name} must be a JSON object.")
    context = message.get("context")
    if context:
        for name in CONTEXT_OBJECTS:
            value = context.get(name)
            if value is not None and not isinstance(value, dict):
                raise Refused(
                    EventsErrorCode.INVALID_FIELD, f"context.{name} must be a JSON object."
                )


def _check(
    message, kind: str | None, received: dt.datetime, batch_sent, received_at: str
) -> tuple[dict, dict]:
    """The message normalised, and the event row's fields; ``Refused`` if refused.
    ``received_at`` is ``received`` in ISO 8601 (the same for every message of a request)."""
    if not isinstance(message, dict):
        raise Refused(EventsErrorCode.INVALID_MESSAGE, "A message is a JSON object.")
    kind = kind or message.get("type")
    if not isinstance(kind, str) or kind not in TYPES:
        raise Refused(
            EventsErrorCode.INVALID_TYPE, f"type must be one of {', '.join(sorted(TYPES))}."
        )
    _shape(message)
    ids = {name: _id(message, name) for name in ID_FIELDS}
    user_id, anonymous_id = ids["userId"], ids["anonymousId"]
    if not user_id and not anonymous_id:
        raise Refused(
            EventsErrorCode.MISSING_IDENTITY, "Every message needs a userId or an anonymousId."
        )
    name = ""
    if kind == MessageType.TRACK:
        name = message.get("event")
        if not isinstance(name, str) or not name.strip():
            raise Refused(EventsErrorCode.MISSING_EVENT, "A track call needs an event name.")
    elif kind in (MessageType.PAGE, MessageType.SCREEN):
        name = message.get("name") if isinstance(message.get("name"), str) else ""
    elif kind == MessageType.ALIAS:
        if not ids["previousId"] or not user_id:
            raise Refused(
                EventsErrorCode.MISSING_PREVIOUS_ID, "An alias call needs previousId and userId."
            )
    elif kind == MessageType.GROUP and not ids["groupId"]:
        raise Refused(EventsErrorCode.MISSING_GROUP_ID, "A group call needs a groupId.")
    message_id = message.get("messageId")
    if message_id is None:
        message_id = f"console-{uuid.uuid4()}"
    if not isinstance(message_id, str) or not 0 < len(message_id) <= 100:
        raise Refused(
            EventsErrorCode.INVALID_MESSAGE_ID, "messageId is a string of at most 100 characters."
        )
    sent_value = message.get("timestamp") or message.get("originalTimestamp")
    original = _when(sent_value, "timestamp")
    sent = _when(message.get("sentAt"), "sentAt") or batch_sent
    timestamp = event_time(original, sent, received)
    message = {
        **message,
        "type": kind,
        "messageId": message_id,
        "receivedAt": received_at,
        "timestamp": timestamp.isoformat(),
    }
    for field, value in ids.items():
        if value and type(message[field]) is not str:  # a number: stored as its string
            message[field] = value
    if original:
        # What the device said, as it said it when the time was not believed.
        message["originalTimestamp"] = (
            original.isoformat() if _believable(original, received) else sent_value
        )
    fields = {
        "message_id": message_id,
        "type": kind,
        "name": name.strip()[:200],
        "anonymous_id": anonymous_id,
        "user_id": user_id,
        "timestamp": timestamp,
    }
    return message, fields


def _subjects(row: NewEvent) -> set[str]:
    """Every identifier the row's message names, normalised as the pipeline keys subjects
    (``apps.events.subjects``), for the suppression list."""
    return message_subjects(row.payload, user_id=row.user_id, anonymous_id=row.anonymous_id)


SUPPRESSED_MESSAGE = "This person asked to be erased; nothing about them is accepted."


def _refuse_suppressed(rows: list[NewEvent], indexes: list[int], rejected: list) -> list[NewEvent]:
    """Drop the rows that name any identifier on the suppression list, each with a reason."""
    wanted = [_subjects(row) for row in rows]
    blocked = gate.suppressed({s for subjects in wanted for s in subjects})
    if not blocked:
        return rows
    kept = []
    for row, index, subjects in zip(rows, indexes, wanted, strict=True):
        if blocked.intersection(subjects):
            rejected.append(
                Rejection(
                    index, row.message_id, EventsErrorCode.SUBJECT_SUPPRESSED, SUPPRESSED_MESSAGE
                )
            )
        else:
            kept.append(row)
    rejected.sort(key=lambda r: r.index)
    return kept


def _send_pipeline_run() -> None:
    from .tasks import process_events_task

    process_events_task.delay()


# Asks for a pipeline run after events are stored (never inside the request; if it cannot be
# sent, the minute sweeper runs).
_kick_pipeline = sharedcache.Nudge("events:kick", _send_pipeline_run)


def json_body(request) -> dict:
    """The request's JSON object (gzip allowed), or a 400 that says what is wrong."""
    raw = _body(request)
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError as exc:
        raise Refused(EventsErrorCode.INVALID_JSON, f"The body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise Refused(EventsErrorCode.INVALID_JSON, "The body must be a JSON object.")
    return body


def admit(request, key: str, *, how: str = "as the Basic user name or writeKey"):
    """The active source of ``key`` if its origin and rate limit allow; (source, CORS origin)."""
    if not key:
        raise Refused(
            EventsErrorCode.MISSING_WRITE_KEY, f"Send the source's write key {how}.", status=401
        )
    second = int(timezone.now().timestamp())
    known = remembered_source_id(key)
    if known is not None:  # counted in the round trip that reads the key's generation
        sharedcache.count_ahead(_rate_key(known, second), window=2)
    source = authenticate_key(key)
    if source is None:
        raise Refused(
            EventsErrorCode.INVALID_WRITE_KEY, "Unknown, expired or revoked write key.", status=401
        )
    origin = _origin(request, source)
    _rate_limit(source, second)
    return source, origin


def accept(request, kind: str | None):
    """Authenticate, check limits, store every valid message; return (stored, rejections)."""
    received = timezone.now()
    body = json_body(request)
    source, origin = admit(request, _write_key(request, body))
    if kind is None:
        messages = body.get("batch")
        if not isinstance(messages, list):
            raise Refused(EventsErrorCode.INVALID_BATCH, "batch must be a list of messages.")
        if len(messages) > MAX_MESSAGES:
            raise Refused(
                EventsErrorCode.BATCH_TOO_LARGE, f"At most {MAX_MESSAGES} messages a batch."
            )
        shared = {k: body[k] for k in ("context", "integrations") if isinstance(body.get(k), dict)}
    else:
        messages, shared = [body], {}
    batch_sent = _when(body.get("sentAt"), "sentAt")
    gpc = request.headers.get("Sec-GPC", "").strip() == "1"
    stored, rejected = store(
        source,
        messages,
        kind=kind,
        shared=shared,
        received=received,
        batch_sent=batch_sent,
        gpc=gpc,
    )
    return stored, rejected, origin


def store(source, messages, *, kind, shared, received, batch_sent, gpc):
    """Check each message and store the valid ones in one transaction (duplicates once);
    messages about erased (suppressed) people are refused."""
    rows, rejected, seen, indexes = [], [], set(), []
    received_at = received.isoformat()
    for index, message in enumerate(messages):
        if isinstance(message, dict) and shared:
            merged = {**shared, **message}
            for part, value in shared.items():
                if isinstance(message.get(part), dict):
                    merged[part] = {**value, **message[part]}
            message = merged
        if isinstance(message, dict):
            for spelling in WRITE_KEY_FIELDS:  # a secret: never stored, never shown
                message.pop(spelling, None)
        try:
            try:
                encoded = orjson.dumps(message)
            except orjson.JSONEncodeError:  # nested past orjson's limit
                raise Refused(
                    EventsErrorCode.TOO_DEEP, f"A message nests at most {MAX_DEPTH} levels."
                ) from None
            # Cheap bound first: a message with few brackets cannot nest deep.
            brackets = encoded.count(b"{") + encoded.count(b"[")
            if brackets > MAX_DEPTH and _depth_over(message, MAX_DEPTH):
                raise Refused(
                    EventsErrorCode.TOO_DEEP, f"A message nests at most {MAX_DEPTH} levels."
                )
            if len(encoded) > MAX_MESSAGE:
                raise Refused(EventsErrorCode.MESSAGE_TOO_LARGE, "A message is at most 32 KB.")
            if b"u0000" in encoded and _NUL.search(encoded):
                raise Refused(
                    EventsErrorCode.INVALID_CHARACTER, "Text may not contain the NUL character."
                )
            normal, fields = _check(message, kind, received, batch_sent, received_at)
        except Refused as exc:
            message_id = message.get("messageId", "") if isinstance(message, dict) else ""
            rejected.append(Rejection(index, str(message_id)[:100], exc.code, exc.message))
            continue
        if fields["message_id"] in seen:
            continue
        seen.add(fields["message_id"])
        context = normal.get("context") if isinstance(normal.get("context"), dict) else {}
        said_gpc = gpc or context.get("gpc") is True  # the header, or the snippet's flag
        rows.append(
            NewEvent(
                source_id=source.pk,
                message_id=fields["message_id"],
                type=fields["type"],
                name=fields["name"],
                anonymous_id=fields["anonymous_id"],
                user_id=fields["user_id"],
                payload=normal,
                timestamp=fields["timestamp"],
                received_at=received,
                gpc=said_gpc,
            )
        )
        indexes.append(index)
    if rows and gate.anyone_suppressed():
        rows = _refuse_suppressed(rows, indexes, rejected)
    if rows:
        insert(rows)  # one statement: stored when it returns (outside a transaction)
        transaction.on_commit(_kick_pipeline)
    return len(rows), rejected


@csrf_exempt
@sharedcache.snapshot()
def collect(request, kind: str | None = None):
    if request.method == "OPTIONS":
        return preflight(request)
    if request.method != "POST":
        return not_post("Send events with POST.")
    origin = ""
    try:
        _, rejected, origin = accept(request, kind)
    except Refused as exc:
        return refusal(exc)
    if kind is not None and rejected:
        return refusal(Refused(rejected[0].code, rejected[0].message), origin)
    body = {"success": True}
    if rejected:
        body["rejected"] = [r.as_dict() for r in rejected]
    response = HttpResponse(orjson.dumps(body), content_type="application/json", status=200)
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def preflight(request):
    """CORS preflight: allowed for any origin some source allows; the POST checks the key."""
    origin = request.headers.get("Origin", "").lower().rstrip("/")
    response = HttpResponse(status=204)
    allowed = Source.objects.filter(is_active=True).values_list("allowed_origins", flat=True)
    if origin and any(origin in origins for origins in allowed):
        response["Access-Control-Allow-Origin"] = request.headers["Origin"]
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Content-Encoding"
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
    return response


MAX_PURPOSE = 100
MAX_NOTICE_VERSION = 40  # ConsentRecord.notice_version


def _consent_subject(body: dict):
    """The visitor the choices are about; refused when any id the body names is of an erased
    person (as collection refuses their messages)."""
    from apps.identity.normalise import InvalidIdentifier, normalise

    subject = None
    for field, kind in (("userId", "user_id"), ("anonymousId", "anonymous_id")):
        value = _id(body, field)
        if value and subject is None:
            try:
                subject = normalise(kind, value)
            except InvalidIdentifier as exc:
                raise Refused(EventsErrorCode.INVALID_IDENTITY, exc.message) from None
    if subject is None:
        raise Refused(EventsErrorCode.MISSING_IDENTITY, "Send the visitor's anonymousId or userId.")
    named = message_subjects(body) | {str(subject)}
    if gate.anyone_suppressed() and gate.suppressed(named):
        raise Refused(EventsErrorCode.SUBJECT_SUPPRESSED, SUPPRESSED_MESSAGE)
    return subject


@csrf_exempt
@sharedcache.snapshot()
def consent(request):
    """``POST /v1/consent``: a banner's choices, sent by the website with its write key.

    ``{"anonymousId" | "userId", "choices": {"analytics": true, ...}, "jurisdiction",
    "noticeVersion", "source": "banner" | "form"}``. Every choice is in the ledger before the
    answer; ``Sec-GPC: 1`` also records an opt-out of sale/share.
    """
    from apps.consent.choices import Jurisdiction
    from apps.consent.services import consent_record, gpc_record
    from martech.common.errors import ApplicationError

    if request.method == "OPTIONS":
        return preflight(request)
    if request.method != "POST":
        return not_post("Send choices with POST.")
    origin = ""
    try:
        body = json_body(request)
        source, origin = admit(request, _write_key(request, body))
        subject = _consent_subject(body)
        choices = body.get("choices")
        gpc = request.headers.get("Sec-GPC", "").strip() == "1"
        if not isinstance(choices, dict) or not (choices or gpc):
            raise Refused(
                EventsErrorCode.INVALID_CHOICES, 'choices is an object: {"analytics": true}.'
            )
        if any(not isinstance(v, bool) for v in choices.values()):
            raise Refused(EventsErrorCode.INVALID_CHOICES, "Each choice is true or false.")
        if any(len(purpose) > MAX_PURPOSE or "\x00" in purpose for purpose in choices):
            raise Refused(
                EventsErrorCode.INVALID_CHOICES,
                f"A purpose is a code of at most {MAX_PURPOSE} characters.",
            )
        notice = body.get("noticeVersion")
        if notice is not None and not isinstance(notice, str):
            raise Refused(EventsErrorCode.INVALID_NOTICE_VERSION, "noticeVersion is a string.")
        notice = (notice or "").strip()
        if len(notice) > MAX_NOTICE_VERSION or "\x00" in notice:
            raise Refused(
                EventsErrorCode.INVALID_NOTICE_VERSION,
                f"noticeVersion is text of at most {MAX_NOTICE_VERSION} characters.",
            )
        jurisdiction = body.get("jurisdiction") or Jurisdiction.OTHER
        kind = body.get("source") or "banner"
        if kind not in ("banner", "form"):
            raise Refused(EventsErrorCode.INVALID_SOURCE, "source is banner or form.")
        evidence = {
            "source": source.name,
            "origin": request.headers.get("Origin", ""),
            "user_agent": request.headers.get("User-Agent", "")[:300],
        }
        try:
            # The source acts: its consent records are audited under its name.
            with actor_context.acting(system_actor=f"source:{source.name}"), transaction.atomic():
                for purpose, granted in choices.items():
                    consent_record(
                        subject=subject,
                        purpose=str(purpose),
                        granted=granted,
                        source=kind,
                        jurisdiction=jurisdiction,
                        evidence=evidence,
                        notice_version=notice,
                        via=f"collection:{source.name}",
                    )
                if gpc:
                    gpc_record(
                        subject=subject, jurisdiction=jurisdiction, via=f"collection:{source.name}"
                    )
        except ApplicationError as exc:
            raise Refused(exc.code, exc.message) from None
    except Refused as exc:
        return refusal(exc, origin)
    response = HttpResponse(
        orjson.dumps({"success": True, "recorded": len(choices) + (1 if gpc else 0)}),
        content_type="application/json",
    )
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response
