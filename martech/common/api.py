"""API conventions shared by every endpoint: errors, pagination and their OpenAPI docs, and
the fields (bounded dates, field mappings) that more than one app takes."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, pagination, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError

logger = logging.getLogger(__name__)

_MESSAGES = {
    "not_authenticated": "Authentication credentials were not provided or have expired.",
    "authentication_failed": "The credentials are not valid.",
    "permission_denied": "You do not have permission to perform this action.",
    "not_found": "Not found.",
}


# Dates outside this range are refused on input: tenure, expiry and time-zone arithmetic on
# them would overflow Python's dates, and no person, contract or access is that old or that
# far away.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)
MAX_DAYS = 36_500  # a hundred years: the longest tenure rule or training validity
MAX_TEXT = 10_000  # free text (descriptions, justifications, notes)


def _out_of_range() -> serializers.ValidationError:
    return serializers.ValidationError(
        f"Use a date from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}."
    )


class BoundedDateField(serializers.DateField):
    """An ISO 8601 date from 1900 to 2999."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if not EARLIEST_DATE <= parsed <= LATEST_DATE:
            raise _out_of_range()
        return parsed


class BoundedDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time from 1900 to 2999 (any offset; stored in UTC)."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if not EARLIEST_DATE <= parsed.astimezone(dt.UTC).date() <= LATEST_DATE:
            raise _out_of_range()
        return parsed


class NonEmptyPatchMixin:
    """A partial update that changes nothing is a mistake, not a no-op."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if getattr(self, "partial", False) and not attrs:
            raise serializers.ValidationError("Give at least one field to change.")
        return attrs


class MappingSerializer(serializers.Serializer):
    """One field mapping, ``{"from", "to"}``, as destinations and syncs both take them."""

    # "from" is a keyword: declared through the field map below.
    to = serializers.CharField(max_length=120)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(max_length=200)
        return fields


class ErrorSerializer(serializers.Serializer):
    """The one shape of every 4xx answer."""

    code = serializers.CharField(help_text="A stable, machine-readable error code.")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    details = serializers.DictField(
        help_text="Specifics, for example the errors of each field.", required=False
    )


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict:
    """Return the API error body."""
    return {"code": code, "message": message, "details": details or {}}


def error_response(status: int, code: str, message: str, details=None) -> JsonResponse:
    """Return the API error shape from plain Django code (handlers outside DRF)."""
    return JsonResponse(error_body(code, message, details), status=status)


def _validation_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for field, errors in detail.items():
            first = _validation_message(errors)
            return first if field == "non_field_errors" else f"{field}: {first}"
    if isinstance(detail, list) and detail:
        return _validation_message(detail[0])
    return str(detail) if detail else "The request is not valid."


def exception_handler(exc, context):
    """Turn every error a view raises into the one error shape."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: logged and answered by Django's 500 handler

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("invalid", _validation_message(detail), {"fields": detail})
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        message = str(exc.detail) if getattr(exc, "detail", None) else _MESSAGES.get(code, "")
        details = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details["retry_after_seconds"] = int(exc.wait)
        response.data = error_body(code, message, details)
    return response


class Pagination(pagination.PageNumberPagination):
    """Page-number pagination with a caller-chosen page size, capped."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        f"Use a whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return int(raw)


# --- OpenAPI: document the error answers each operation can give --------------------

_ERROR_DESCRIPTIONS = {
    "400": "The request is not valid (see `details`).",
    "401": "Not authenticated.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "Not found, or not visible to you.",
    "405": "Method not allowed.",
    "406": "The requested representation is not available.",
    "415": "Unsupported media type.",
    "429": "Too many requests; retry later.",
}


def document_error_responses(result, generator, request, public):
    """Add the shared error shape and the 4xx answers every operation can give."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "details": {"type": "object", "additionalProperties": {}},
        },
        "required": ["code", "message", "details"],
    }
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = ["404", "405", "406", "429"]
            if operation.get("parameters") or "requestBody" in operation:
                codes.append("400")
            if "requestBody" in operation:
                codes.append("415")
            security = operation.get("security")
            if security and {} not in security:
                codes += ["401", "403"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code, {"description": _ERROR_DESCRIPTIONS[code], "content": ref}
                )
    return result


def validated_body(serializer_class, request, **kwargs) -> dict:
    """Return the validated body of ``request`` (400 with the field errors otherwise)."""
    serializer = serializer_class(data=request.data, context={"request": request}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
