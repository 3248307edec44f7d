"""Secrets encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256): destination
credentials, warehouse connection strings and the identifiers of erasure requests.

Keys come from ``MARTECH_CREDENTIAL_KEYS`` (comma-separated Fernet keys, newest first): the
first encrypts, all decrypt, so a new key can be put in front and ``manage.py
rotate_credential_keys`` re-encrypts everything with it before the old one is dropped.
Without the setting (the embedded demo) a key is derived from ``SECRET_KEY``.
"""

from __future__ import annotations

import base64

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _keys() -> list[Fernet]:
    raw = [k.strip() for k in settings.CREDENTIAL_KEYS if k.strip()]
    if not raw:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"martech-credentials"
        ).derive(settings.SECRET_KEY.encode())
        raw = [base64.urlsafe_b64encode(derived).decode()]
    try:
        return [Fernet(key) for key in raw]
    except ValueError as exc:
        raise ImproperlyConfigured(
            "MARTECH_CREDENTIAL_KEYS holds a value that is not a Fernet key."
        ) from exc


def encrypt(credentials: dict) -> str:
    """One token holding ``credentials`` (any JSON object), under the newest key."""
    if not credentials:
        return ""
    return MultiFernet(_keys()).encrypt(orjson.dumps(credentials)).decode()


def decrypt(token: str) -> dict:
    """The object ``encrypt`` put in ``token``, read with any configured key."""
    if not token:
        return {}
    try:
        return orjson.loads(MultiFernet(_keys()).decrypt(token.encode()))
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with MARTECH_CREDENTIAL_KEYS."
        ) from None


def rotate(token: str) -> str:
    """The same credentials under the newest key."""
    if not token:
        return ""
    return MultiFernet(_keys()).rotate(token.encode()).decode()
