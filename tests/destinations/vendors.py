"""A loopback stand-in for the vendors' APIs, answering as their documentation describes.

``FakeVendor(kind)`` runs a ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) in a daemon thread.
It routes by method and path to the endpoints the real vendor exposes, checks the credentials the
vendor requires (refusing with the vendor's own error shape), records every request, and answers
as the vendor does on success, including its partial-failure answers:

* HubSpot: contacts whose email ends with ``@invalid.example`` fail in a 207 multi-status.
* Braze: objects whose email ends with ``@invalid.example`` come back as non-fatal errors.
* Customer.io: entries whose email ends with ``@invalid.example`` fail in a 207 by batch index.
* Amplitude: ids shorter than ``min_id_length`` (5 by default) make a 400 naming the events.
* Google Ads: gclids starting with ``bad`` fail inside ``partialFailureError``.
* Salesforce: records whose Email ends with ``@invalid.example`` fail in the result list.

``fail_next(n, status, body, headers)`` queues scripted answers and ``down = True`` makes every
request answer 503. Use it as a context manager (or ``start()``/``stop()``).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from apps.destinations.adapters.webhook import signature

# Credentials the fake vendors accept.
CREDENTIALS: dict[str, dict[str, str]] = {
    "webhook": {"signing_secret": "whsec-test-secret"},
    "hubspot": {"access_token": "pat-na1-test-token"},
    "braze": {"api_key": "braze-rest-api-key"},
    "customerio": {"site_id": "cio-site", "api_key": "cio-track-key"},
    "amplitude": {"api_key": "amp-project-key", "secret_key": "amp-secret-key"},
    "meta_capi": {"access_token": "EAAB-test-token"},
    "google_ads": {"developer_token": "dev-token-123", "access_token": "ya29.test-token"},
    "salesforce": {"access_token": "00Dxx0000000001!test"},
}
INVALID_EMAIL_SUFFIX = "@invalid.example"
WEBHOOK_TOLERANCE = 300  # seconds a webhook signature stays valid

Answer = tuple[int, object, dict[str, str]]


@dataclass
class Received:
    """One request as the vendor saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: object  # parsed JSON, or None
    raw: bytes = field(repr=False, default=b"")


def _basic(headers: dict[str, str]) -> tuple[str, str] | None:
    raw = headers.get("authorization", "")
    if not raw.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(raw[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password


def _bearer(headers: dict[str, str]) -> str:
    raw = headers.get("authorization", "")
    return raw[7:] if raw.startswith("Bearer ") else ""


def _json_error(status: int, body: object) -> Answer:
    return status, body, {}


class FakeVendor:
    """A fake of one vendor's API (``kind`` is an adapter key) on a loopback port."""

    def __init__(self, kind: str):
        if kind not in CREDENTIALS:
            raise ValueError(f"no fake for {kind!r}")
        self.kind = kind
        self.credentials = CREDENTIALS[kind]
        self.down = False
        self.latency = 0.0  # seconds before each answer: a slow vendor
        # Erasure: a vendor that erases later answers "pending" to status checks until this
        # is set (the signed webhook then answers 202 with a status URL; Amplitude always
        # schedules its deletion jobs).
        self.erases_later = False
        self.erasures_done = False
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._scripted: deque[Answer] = deque()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeVendor:
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                vendor._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format, *args):  # quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeVendor:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- scripting and inspection ------------------------------------------------------------

    def fail_next(self, n: int, status: int, body: object = None, headers: dict | None = None):
        """The next ``n`` requests get this answer instead of the vendor's normal one."""
        with self._lock:
            for _ in range(n):
                self._scripted.append((status, body, dict(headers or {})))

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    # -- serving -----------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        parts = urlsplit(handler.path)
        received = Received(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=parsed,
            raw=raw,
        )
        with self._lock:
            self._received.append(received)
            scripted = self._scripted.popleft() if self._scripted else None
        if self.latency:
            time.sleep(self.latency)
        if self.down:
            status, body, headers = 503, {"message": "Service Unavailable"}, {}
        elif scripted is not None:
            status, body, headers = scripted
        else:
            status, body, headers = self._route(received)
        self._reply(handler, status, body, headers)

    def _reply(self, handler, status: int, body: object, headers: dict[str, str]) -> None:
        if body is None:
            payload = b""
        elif isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = json.dumps(body).encode()
        handler.send_response(status)
        if payload:
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if payload:
            handler.wfile.write(payload)

    def _route(self, r: Received) -> Answer:
        return getattr(self, f"_{self.kind}")(r)

    # -- vendors -----------------------------------------------------------------------------

    def _webhook(self, r: Received) -> Answer:
        status_check = r.method == "GET" and r.path.startswith("/hooks/martech/erasure/status/")
        if not status_check and (
            r.method != "POST" or r.path not in ("/hooks/martech", "/hooks/martech/erasure")
        ):
            return _json_error(404, {"error": "not found"})
        header = r.headers.get("x-martech-signature", "")
        match = re.fullmatch(r"t=(\d+),v1=[0-9a-f]{64}", header)
        if not match:
            return _json_error(401, {"error": "missing or malformed signature"})
        stamp = int(match.group(1))
        expected = signature(self.credentials["signing_secret"], stamp, r.raw)
        if not hmac.compare_digest(expected, header):
            return _json_error(401, {"error": "signature mismatch"})
        if abs(time.time() - stamp) > WEBHOOK_TOLERANCE:
            return _json_error(401, {"error": "timestamp outside tolerance"})
        if status_check:
            return 200, {"status": "done" if self.erasures_done else "pending"}, {}
        if r.path == "/hooks/martech/erasure" and self.erases_later:
            job = uuid.uuid4().hex[:12]
            return 202, {"status_url": f"{self.base_url}/hooks/martech/erasure/status/{job}"}, {}
        return 200, {"ok": True}, {}

    def _hubspot(self, r: Received) -> Answer:
        if _bearer(r.headers) != self.credentials["access_token"]:
            return _json_error(
                401,
                {
                    "status": "error",
                    "message": "Authentication credentials not found.",
                    "correlationId": str(uuid.uuid4()),
                    "category": "INVALID_AUTHENTICATION",
                },
            )
        body = r.body if isinstance(r.body, dict) else {}
        if r.method == "POST" and r.path == "/crm/v3/objects/contacts/batch/upsert":
            inputs = body.get("inputs") or []
            if not inputs or len(inputs) > 100:
                return _json_error(
                    400,
                    {
                        "status": "error",
                        "message": "inputs must hold between 1 and 100 items",
                        "category": "VALIDATION_ERROR",
                    },
                )
            results, errors = [], []
            for n, entry in enumerate(inputs):
                email = str(entry.get("id") or "")
                if entry.get("idProperty") != "email" or email.endswith(INVALID_EMAIL_SUFFIX):
                    errors.append(
                        {
                            "status": "error",
                            "category": "VALIDATION_ERROR",
                            "message": f"Property values were not valid: email {email}",
                            "context": {"objectWriteTraceId": [entry.get("objectWriteTraceId")]},
                        }
                    )
                    continue
                results.append(
                    {
                        "id": str(1000 + n),
                        "new": True,
                        "properties": entry.get("properties") or {},
                        "objectWriteTraceId": entry.get("objectWriteTraceId"),
                    }
                )
            answer = {"status": "COMPLETE", "results": results}
            if errors:
                answer.update(numErrors=len(errors), errors=errors)
                return 207, answer, {}
            return 200, answer, {}
        if r.method == "POST" and r.path == "/events/v3/send":
            if not body.get("eventName") or not (
                body.get("email") or body.get("utk") or body.get("objectId")
            ):
                return _json_error(
                    400,
                    {
                        "status": "error",
                        "message": "eventName and one of email, utk or objectId are required",
                        "category": "VALIDATION_ERROR",
                    },
                )
            return 204, None, {}
        if r.method == "POST" and r.path == "/crm/v3/objects/contacts/gdpr-delete":
            if not body.get("objectId"):
                return _json_error(
                    400,
                    {"status": "error", "message": "objectId", "category": "VALIDATION_ERROR"},
                )
            return 204, None, {}
        return _json_error(
            404, {"status": "error", "message": "Not found", "category": "NOT_FOUND"}
        )

    def _braze(self, r: Received) -> Answer:
        if _bearer(r.headers) != self.credentials["api_key"]:
            return _json_error(401, {"message": "Invalid API key"})
        body = r.body if isinstance(r.body, dict) else {}
        if r.method == "POST" and r.path == "/users/track":
            errors, counts = [], {}
            for array in ("attributes", "events", "purchases"):
                objects = body.get(array) or []
                if len(objects) > 75:
                    return _json_error(400, {"message": f"Too many objects in {array} (max 75)"})
                counts[array] = len(objects)
                for index, obj in enumerate(objects):
                    identified = any(
                        obj.get(k) for k in ("external_id", "user_alias", "braze_id", "email")
                    )
                    if not identified:
                        errors.append(
                            {
                                "type": "'external_id', 'braze_id', 'user_alias' or 'email' "
                                "is required",
                                "input_array": array,
                                "index": index,
                            }
                        )
                    elif str(obj.get("email", "")).endswith(INVALID_EMAIL_SUFFIX):
                        errors.append(
                            {"type": "Invalid email address", "input_array": array, "index": index}
                        )
            if not any(counts.values()):
                return _json_error(
                    400,
                    {
                        "message": "Valid data must be provided in 'attributes', 'events' or "
                        "'purchases'."
                    },
                )
            answer: dict = {"message": "success"}
            for array, count in counts.items():
                if count:
                    answer[f"{array}_processed"] = count
            if errors:
                answer["errors"] = errors
            return 201, answer, {}
        if r.method == "POST" and r.path == "/users/delete":
            kinds = [
                k
                for k in ("external_ids", "user_aliases", "braze_ids", "email_addresses")
                if body.get(k)
            ]
            if len(kinds) != 1:
                return _json_error(400, {"message": "Exactly one identifier type is required"})
            return 201, {"message": "success", "deleted": len(body[kinds[0]])}, {}
        return _json_error(404, {"message": "Not found"})

    def _customerio(self, r: Received) -> Answer:
        if _basic(r.headers) != (self.credentials["site_id"], self.credentials["api_key"]):
            return _json_error(401, {"meta": {"error": "Unauthorized request"}})
        if r.method != "POST" or r.path != "/api/v2/batch":
            return _json_error(404, {"meta": {"error": "Not found"}})
        if len(r.raw) > 500_000:
            return _json_error(413, {"meta": {"error": "Request entity too large"}})
        batch = (r.body or {}).get("batch") if isinstance(r.body, dict) else None
        if not isinstance(batch, list) or not batch:
            return _json_error(400, {"meta": {"error": "batch is required"}})
        errors = []
        for index, entry in enumerate(batch):
            who = entry.get("identifiers") or {}
            if entry.get("type") != "person" or not (who.get("id") or who.get("email")):
                errors.append(
                    {
                        "batch_index": index,
                        "reason": "required",
                        "field": "identifiers",
                        "message": "a person needs an id or an email",
                    }
                )
            elif entry.get("action") not in ("identify", "event", "delete"):
                errors.append(
                    {
                        "batch_index": index,
                        "reason": "invalid",
                        "field": "action",
                        "message": "unknown action",
                    }
                )
            elif str(who.get("email", "")).endswith(INVALID_EMAIL_SUFFIX):
                errors.append(
                    {
                        "batch_index": index,
                        "reason": "invalid",
                        "field": "identifiers.email",
                        "message": "email address is not deliverable",
                    }
                )
        if errors:
            return 207, {"errors": errors}, {}
        return 200, {}, {}

    def _amplitude(self, r: Received) -> Answer:
        body = r.body if isinstance(r.body, dict) else {}
        if r.method == "POST" and r.path == "/2/httpapi":
            if body.get("api_key") != self.credentials["api_key"]:
                return _json_error(
                    400, {"code": 400, "error": f"Invalid API key: {body.get('api_key', '')}"}
                )
            events = body.get("events")
            if not isinstance(events, list) or not events:
                return _json_error(
                    400,
                    {
                        "code": 400,
                        "error": "Request missing required field",
                        "missing_field": "events",
                    },
                )
            if len(events) > 2000 or len(r.raw) > 1_000_000:
                return _json_error(413, {"code": 413, "error": "Payload too large"})
            shortest = (body.get("options") or {}).get("min_id_length", 5)
            invalid: dict[str, list[int]] = {}
            missing: dict[str, list[int]] = {}
            for index, event in enumerate(events):
                if not event.get("event_type"):
                    missing.setdefault("event_type", []).append(index)
                if not (event.get("user_id") or event.get("device_id")):
                    missing.setdefault("user_id", []).append(index)
                for name in ("user_id", "device_id"):
                    if event.get(name) and len(str(event[name])) < shortest:
                        invalid.setdefault(name, []).append(index)
                if "time" in event and not isinstance(event["time"], int):
                    invalid.setdefault("time", []).append(index)
            if invalid or missing:
                answer: dict = {"code": 400, "error": "Request missing required field"}
                if invalid:
                    answer["error"] = "Invalid field values on some events"
                    answer["events_with_invalid_fields"] = invalid
                if missing:
                    answer["events_with_missing_fields"] = missing
                return 400, answer, {}
            answer = {
                "code": 200,
                "events_ingested": len(events),
                "payload_size_bytes": len(r.raw),
                "server_upload_time": int(time.time() * 1000),
            }
            return 200, answer, {}
        if r.method == "POST" and r.path == "/api/2/deletions/users":
            pair = (self.credentials["api_key"], self.credentials["secret_key"])
            if _basic(r.headers) != pair:
                return _json_error(401, {"error": "Invalid API key or secret key"})
            if not (body.get("user_ids") or body.get("amplitude_ids")) or not body.get("requester"):
                return _json_error(400, {"error": "user_ids or amplitude_ids, and requester"})
            answer = {
                "day": self._deletion_day(),
                "status": "staging",
                "amplitude_ids": [
                    {"amplitude_id": 100 + n, "requester": body["requester"]}
                    for n, _ in enumerate(body.get("user_ids") or [])
                ],
            }
            return 200, answer, {}
        if r.method == "GET" and r.path == "/api/2/deletions/users":
            pair = (self.credentials["api_key"], self.credentials["secret_key"])
            if _basic(r.headers) != pair:
                return _json_error(401, {"error": "Invalid API key or secret key"})
            day = (r.query.get("start_day") or [""])[0]
            jobs = (
                [
                    {
                        "day": day,
                        "status": "done" if self.erasures_done else "staging",
                        "amplitude_ids": [{"amplitude_id": 100}],
                    }
                ]
                if day
                else []
            )
            return 200, jobs, {}
        return _json_error(404, {"code": 404, "error": "Not found"})

    @staticmethod
    def _deletion_day() -> str:
        """Amplitude runs deletion jobs for a day 30 days ahead."""
        return time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400))

    def _meta_capi(self, r: Received) -> Answer:
        trace = uuid.uuid4().hex[:11]
        match = re.fullmatch(r"/(v\d+\.\d+)/(\d+)/events", r.path)
        if r.method != "POST" or not match:
            return _json_error(
                400,
                {
                    "error": {
                        "message": "Unsupported post request.",
                        "type": "GraphMethodException",
                        "code": 100,
                        "fbtrace_id": trace,
                    }
                },
            )
        token = (r.query.get("access_token") or [""])[0]
        if not token and isinstance(r.body, dict):
            token = r.body.get("access_token", "")
        if token != self.credentials["access_token"]:
            return _json_error(
                400,
                {
                    "error": {
                        "message": "Invalid OAuth access token - Cannot parse access token",
                        "type": "OAuthException",
                        "code": 190,
                        "fbtrace_id": trace,
                    }
                },
            )
        data = r.body.get("data") if isinstance(r.body, dict) else None
        if not isinstance(data, list) or not data or len(data) > 1000:
            return _json_error(
                400,
                {
                    "error": {
                        "message": "Invalid parameter",
                        "type": "OAuthException",
                        "code": 100,
                        "error_user_msg": "data must hold between 1 and 1000 events",
                        "fbtrace_id": trace,
                    }
                },
            )
        week_ago = time.time() - 7 * 86400
        for event in data:
            user_data = event.get("user_data") or {}
            problem = None
            if not event.get("event_name") or not isinstance(event.get("event_time"), int):
                problem = "event_name and event_time (unix seconds) are required"
            elif event["event_time"] < week_ago:
                problem = "event_time is more than 7 days in the past"
            elif not event.get("action_source"):
                problem = "action_source is required"
            for key in ("em", "ph", "external_id"):
                for value in user_data.get(key) or []:
                    if not re.fullmatch(r"[0-9a-f]{64}", str(value)):
                        problem = f"user_data.{key} must be SHA-256 hashed"
            if problem:
                return _json_error(
                    400,
                    {
                        "error": {
                            "message": "Invalid parameter",
                            "type": "OAuthException",
                            "code": 100,
                            "error_subcode": 2804003,
                            "error_user_msg": problem,
                            "fbtrace_id": trace,
                        }
                    },
                )
        return 200, {"events_received": len(data), "messages": [], "fbtrace_id": trace}, {}

    def _google_ads(self, r: Received) -> Answer:
        match = re.fullmatch(r"/(v\d+)/customers/(\d+):uploadClickConversions", r.path)
        if r.method != "POST" or not match:
            return _json_error(
                404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}}
            )
        if _bearer(r.headers) != self.credentials["access_token"]:
            return _json_error(
                401,
                {
                    "error": {
                        "code": 401,
                        "status": "UNAUTHENTICATED",
                        "message": "Request had invalid authentication credentials.",
                    }
                },
            )
        if r.headers.get("developer-token") != self.credentials["developer_token"]:
            return _json_error(
                403,
                {
                    "error": {
                        "code": 403,
                        "status": "PERMISSION_DENIED",
                        "message": "The developer token is not valid.",
                    }
                },
            )
        version, customer = match.groups()
        body = r.body if isinstance(r.body, dict) else {}
        conversions = body.get("conversions") or []
        if not body.get("partialFailure"):
            return _json_error(
                400,
                {
                    "error": {
                        "code": 400,
                        "status": "INVALID_ARGUMENT",
                        "message": "partial_failure must be true for this operation.",
                    }
                },
            )
        stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d")
        results, errors = [], []
        for index, conversion in enumerate(conversions):
            gclid = str(conversion.get("gclid") or "")
            action = str(conversion.get("conversionAction") or "")
            if gclid.startswith("bad") or not gclid:
                code, message = (
                    {"conversionUploadError": "UNPARSEABLE_GCLID"},
                    "The gclid could not be decoded.",
                )
                element = "gclid"
            elif not action.startswith(f"customers/{customer}/conversionActions/"):
                code, message = (
                    {"conversionUploadError": "INVALID_CONVERSION_ACTION"},
                    "Invalid conversion action.",
                )
                element = "conversion_action"
            elif not stamp.fullmatch(str(conversion.get("conversionDateTime") or "")):
                code, message = (
                    {"dateError": "INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET"},
                    "Invalid date.",
                )
                element = "conversion_date_time"
            else:
                results.append(
                    {
                        "gclid": gclid,
                        "conversionAction": action,
                        "conversionDateTime": conversion["conversionDateTime"],
                    }
                )
                continue
            results.append({})
            errors.append(
                {
                    "errorCode": code,
                    "message": message,
                    "trigger": {"stringValue": gclid},
                    "location": {
                        "fieldPathElements": [
                            {"fieldName": "conversions", "index": index},
                            {"fieldName": element},
                        ]
                    },
                }
            )
        answer: dict = {"results": results, "jobId": "7421"}
        if errors:
            answer["partialFailureError"] = {
                "code": 3,
                "message": f"{errors[0]['message']}, at conversions[...]",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.ads.googleads."
                        f"{version}.errors.GoogleAdsFailure",
                        "errors": errors,
                    }
                ],
            }
        return 200, answer, {}

    def _salesforce(self, r: Received) -> Answer:
        if _bearer(r.headers) != self.credentials["access_token"]:
            return _json_error(
                401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            )
        prefix = re.match(r"^/services/data/(v\d+\.\d)/", r.path)
        if not prefix:
            return _json_error(
                404,
                [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
            )
        rest = r.path[prefix.end() :]
        upsert = re.fullmatch(r"composite/sobjects/(\w+)/(\w+)", rest)
        if r.method == "PATCH" and upsert:
            sobject, match_field = upsert.groups()
            body = r.body if isinstance(r.body, dict) else {}
            records = body.get("records") or []
            if len(records) > 200:
                return _json_error(
                    400, [{"errorCode": "EXCEEDED_ID_LIMIT", "message": "record limit is 200"}]
                )
            results = []
            for n, record in enumerate(records):
                if (record.get("attributes") or {}).get("type") != sobject:
                    errors = [
                        {"statusCode": "INVALID_TYPE", "message": "type mismatch", "fields": []}
                    ]
                elif not record.get(match_field):
                    errors = [
                        {
                            "statusCode": "MISSING_ARGUMENT",
                            "message": f"{match_field} not specified",
                            "fields": [],
                        }
                    ]
                elif str(record.get("Email", "")).endswith(INVALID_EMAIL_SUFFIX):
                    errors = [
                        {
                            "statusCode": "INVALID_EMAIL_ADDRESS",
                            "message": f"Email: invalid email address: {record['Email']}",
                            "fields": ["Email"],
                        }
                    ]
                else:
                    results.append(
                        {"id": f"003{n:015d}", "success": True, "errors": [], "created": True}
                    )
                    continue
                results.append({"success": False, "errors": errors})
            return 200, results, {}
        insert = re.fullmatch(r"sobjects/(\w+)", rest)
        if r.method == "POST" and insert:
            return 201, {"id": "e00000000000001", "success": True, "errors": []}, {}
        by_external = re.fullmatch(r"sobjects/(\w+)/(\w+)/(.+)", rest)
        if r.method == "DELETE" and by_external:
            if unquote(by_external.group(3)).endswith(INVALID_EMAIL_SUFFIX):
                return _json_error(
                    404,
                    [
                        {
                            "errorCode": "NOT_FOUND",
                            "message": "The requested resource does not exist",
                        }
                    ],
                )
            return 204, None, {}
        return _json_error(
            404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
        )
