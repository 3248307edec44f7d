"""The one error type of the services, mapped to the one API error shape.

A service raises ``ApplicationError`` (or a subclass) with a stable ``code``; the API
answers ``{"code": ..., "message": ..., "details": {...}}`` with its ``status``, and
the browser UI shows the message as a form or page error.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        status: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details or {}
        if status is not None:
            self.status = status


class NotFoundError(ApplicationError):
    status = 404
    code = "not_found"


class PermissionDeniedError(ApplicationError):
    status = 403
    code = "permission_denied"


class ConflictError(ApplicationError):
    status = 409
    code = "conflict"
