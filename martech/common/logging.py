"""Log filters: stamp the request id, and keep secrets out of every log line."""

import logging

import re2

from . import context

# The patterns run on re2, whose time is linear in the line's length: log lines carry text
# from outside (paths, headers, vendor answers), and a backtracking engine takes quadratic
# time on a long run of word characters for the patterns below.
_BEARER_OR_BASIC = re2.compile(r"(?i)(?:bearer|basic)\s")
_PATTERNS = [
    # Authorization headers and bearer tokens.
    (re2.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), r"\1 [REDACTED]"),
    # key=value and "key": "value" pairs whose key names a secret (an authorization header's
    # scheme is kept: the pattern above has redacted its value).
    (
        re2.compile(
            r"(?i)([\"']?\b[\w-]*(?:password|passwd|secret|token|api[_-]?key|write[_-]?key|"
            r"authorization|credential|sessionid|csrftoken)[\w-]*[\"']?\s*[:=]\s*)"
            r"([\"']?)([^\s\"',&;}]+)([\"']?)"
        ),
        lambda m: (
            m.group(0)
            if m.group(2) == "" and _BEARER_OR_BASIC.match(m.string, m.start(3))
            else f"{m.group(1)}{m.group(2)}[REDACTED]{m.group(4)}"
        ),
    ),
    # A Snowplow tracker's app id is a source's write key: ``aid=`` in a query string.
    (
        re2.compile(r"""(?i)(["']?\baid["']?\s*[:=]\s*)(["']?)[^\s"',&;}]+(["']?)"""),
        r"\1\2[REDACTED]\3",
    ),
    # A person looked up by a GET form (/profiles/, /consent/, a list's search box): the
    # identifier or search text in a query string, so that an erased person's email or phone
    # does not outlive the erasure in the access log. Also URL-encoded, as in the ``next=``
    # of a sign-in redirect; the value ends at ``&`` or ``%26``. The Snowplow pixel (GET /i)
    # carries its event in the query string: the user and device ids (uid, duid, nuid, tnuid),
    # the address (ip), the page and referrer (url, refr: UTMs can hold an email) and the
    # self-describing event and contexts (ue_pr, ue_px, co, cx). A single sign-on's callback
    # carries the provider's authorization code (code).
    (
        re2.compile(
            r"(?i)((?:[?&]|%3F|%26)(?:identifier|subject|email|phone|q|uid|duid|nuid|tnuid|ip|"
            r"url|refr|ue_pr|ue_px|co|cx|code)(?:=|%3D))"
            r"(?:[^\s&#\"'%]|%(?:[013-9a-f][0-9a-f]|2[0-57-9a-f]))+"
        ),
        r"\1[REDACTED]",
    ),
    # Console API tokens by their recognisable prefix.
    (re2.compile(r"\bmtc_[A-Za-z0-9_-]{8,}"), "mtc_[REDACTED]"),
    # Credentials inside URLs (postgres://user:secret@host).
    (re2.compile(r"(\w+://[^:/\s@]*:)[^@\s/]+@"), r"\1[REDACTED]@"),
]


def redact(text: str) -> str:
    """Return ``text`` with anything that looks like a secret replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrite a record's message (and its traceback text) with secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is, never dropped
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class RequestContextFilter(logging.Filter):
    """Add the server's ``request_id`` (and ``client_request_id``, what the client sent) to
    every record so log lines can be tied to audit events."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = context.current()
        record.request_id = current.request_id or "-"
        record.client_request_id = current.client_request_id or "-"
        return True


class ClientRefusal(logging.Filter):
    """For refusals that are the client's doing (a body over the size limit): keep the line as
    a warning, not an error the operator must act on, and drop the traceback, where a stack
    would only bury the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
