"""Hide credentials in what the console keeps or shows of a vendor request or answer.

A request is masked by structure: each adapter declares where its credentials go (headers,
query parameters, JSON body fields) and ``mask_request`` replaces exactly those parts with
``MASK``, whatever their encoding (a Basic header's base64, a URL-encoded token, a JSON
string). Free text that may echo a request (a vendor's error, an exception) has no structure
to follow, so ``scrub_text`` removes each credential in every encoding a request could have
carried it in. ``vendor_text`` is the one way a vendor's answer is kept: control characters
stripped, credentials scrubbed, at most ``VENDOR_TEXT_LIMIT`` characters.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

from .adapters.base import Adapter, Outbound, Result

log = logging.getLogger(__name__)
MASK = "•••"
VENDOR_TEXT_LIMIT = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_AUTH_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9._-]*) +\S")


_SIGNATURE = re.compile(r"^t=(\d+),")  # a timestamped signature: t=<unix>,v1=<hex>,...


def _mask_header(name: str, value: str) -> str:
    # A signature keeps its timestamp (not secret; it shows when the request was signed).
    stamp = _SIGNATURE.match(value)
    if stamp:
        return f"t={stamp.group(1)},v1={MASK}"
    # Keep the scheme ("Basic", "Bearer") so the inbox still shows how the vendor is called.
    scheme = (
        _AUTH_SCHEME.match(value)
        if name.lower() in ("authorization", "proxy-authorization")
        else None
    )
    return f"{scheme.group(1)} {MASK}" if scheme else MASK


def _mask_query(query: str, names: frozenset[str]) -> str:
    if not query or not names:
        return query
    parts = []
    for part in query.split("&"):
        key = part.partition("=")[0]
        if unquote_plus(key) in names:
            part = f"{key}={MASK}"
        parts.append(part)
    return "&".join(parts)


def _mask_url(url: str, names: frozenset[str]) -> str:
    if not names:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=_mask_query(parts.query, names)))


def _set_path(value, path: list[str]) -> bool:
    """Replace what ``path`` names inside ``value`` with MASK; True when something was."""
    if not path:
        return False
    head, rest = path[0], path[1:]
    if head == "*" and isinstance(value, list):
        targets = range(len(value))
    elif isinstance(value, dict) and head in value:
        targets = [head]
    else:
        return False
    found = False
    for key in targets:
        if rest:
            found = _set_path(value[key], rest) or found
        elif value[key] not in (None, ""):
            value[key], found = MASK, True
    return found


def _mask_body(body: bytes, fields: tuple[str, ...], content_type: str) -> str:
    text = body.decode(errors="replace")
    if not fields or not body:
        return text
    if "application/x-www-form-urlencoded" in content_type.lower():
        return _mask_query(text, frozenset(fields))
    try:
        document = json.loads(text)
    except ValueError:
        return MASK  # a body that should hold a credential and cannot be read: hide it all
    changed = False
    for field in fields:
        changed = _set_path(document, field.split(".")) or changed
    if not changed:
        return text
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def mask_request(adapter: Adapter, request: Outbound) -> tuple[str, dict[str, str], str]:
    """The request's URL, headers and body with the adapter's credential parts masked."""
    header_names = {name.lower() for name in adapter.secret_headers}
    headers = {
        name: _mask_header(name, value) if name.lower() in header_names else value
        for name, value in request.headers.items()
    }
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    url = _mask_url(request.url, adapter.secret_query_params)
    body = _mask_body(request.body, adapter.secret_body_fields, content_type)
    return url, headers, body


def encodings(secret: str) -> set[str]:
    """The forms a credential can take in a request or in a vendor's echo of one."""
    if not secret:
        return set()
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        quote(secret, safe="/"),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    raw = secret.encode()
    forms.add(base64.b64encode(raw).decode())
    forms.add(base64.urlsafe_b64encode(raw).decode())
    forms.add(base64.b64encode(raw).decode().rstrip("="))
    return {f for f in forms if f}


def _basic_forms(values: list[str]) -> set[str]:
    """The base64 of every ``user:password`` pair the credentials could make."""
    forms = set()
    for user, password in itertools.permutations(values, 2):
        pair = f"{user}:{password}".encode()
        forms.add(base64.b64encode(pair).decode())
        forms.add(base64.b64encode(pair).decode().rstrip("="))
    for value in values:
        for pair in (f"{value}:".encode(), f":{value}".encode()):
            forms.add(base64.b64encode(pair).decode().rstrip("="))
    return forms


def secret_forms(credentials: dict[str, str] | Iterable[str]) -> list[str]:
    """Every form of every credential, longest first (so a longer form is removed whole)."""
    values = [
        v
        for v in (credentials.values() if isinstance(credentials, dict) else credentials)
        if isinstance(v, str) and len(v) >= 4
    ]
    forms: set[str] = set()
    for value in values:
        forms |= encodings(value)
    forms |= _basic_forms(values)
    return sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)


def scrub_text(text: str, credentials: dict[str, str] | Iterable[str]) -> str:
    """Remove every credential, in any encoding a request carries it, from free text."""
    if not text:
        return text
    for form in secret_forms(credentials):
        if form in text:
            text = text.replace(form, MASK)
    return text


def vendor_text(text: str, credentials: dict[str, str] | None = None) -> str:
    """A vendor's answer as the console keeps it: one line, no control characters, no
    credential, at most ``VENDOR_TEXT_LIMIT`` characters."""
    text = _CONTROL.sub(" ", str(text or "")).replace("\n", " ").replace("\t", " ")
    text = re.sub(r" {2,}", " ", text).strip()
    if credentials:
        text = scrub_text(text, credentials)
    if len(text) > VENDOR_TEXT_LIMIT:
        text = text[: VENDOR_TEXT_LIMIT - 1] + "…"
    return text


def masked_capture_fields(adapter: Adapter, request: Outbound, credentials: dict) -> dict:
    """What a sandbox-inbox capture stores of ``request``: masked by structure, then checked.

    A credential still found in any encoding after the adapter's declarations were applied
    means an adapter put it somewhere it did not declare: it is scrubbed all the same, and
    logged (by adapter, never by value) so the declaration gets fixed.
    """
    url, headers, body = mask_request(adapter, request)
    forms = secret_forms(credentials)
    leaked = [f for f in forms if f in url or f in body or any(f in v for v in headers.values())]
    if leaked:
        log.error("adapter %s put a credential where it does not declare one", adapter.key)
        url, body = scrub_text(url, credentials), scrub_text(body, credentials)
        headers = {k: scrub_text(v, credentials) for k, v in headers.items()}
    return {"method": request.method, "url": url, "headers": headers, "body": body}


def result_kept(result: Result, credentials: dict) -> Result:
    """``result`` with its texts as the console keeps a vendor's words (``vendor_text``)."""
    return replace(
        result,
        message=vendor_text(result.message, credentials),
        failed={k: (v, vendor_text(m, credentials)) for k, (v, m) in result.failed.items()},
    )
