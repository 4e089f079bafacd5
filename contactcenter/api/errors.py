"""One error shape for every API failure: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from contactcenter.api.parsers import RequestTooLarge
from contactcenter.exceptions import DomainError


def error_response(*, code: str, message: str, status_code: int, fields: dict | None = None, headers=None) -> Response:
    return Response(
        {"error": {"code": code, "message": message, "fields": fields or {}}}, status=status_code, headers=headers
    )


def _field_messages(value) -> list | dict:
    if isinstance(value, list):
        return [str(item) for item in value]
    return _flatten(value) if isinstance(value, dict) else [str(value)]


def _flatten(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _field_messages(value) for key, value in detail.items()}
    return {"non_field_errors": [str(item) for item in detail]} if isinstance(detail, list) else {}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return error_response(code=exc.code, message=exc.message, status_code=exc.status)
    if isinstance(exc, ProtectedError | RestrictedError):
        return error_response(
            code="in_use", message="It cannot be deleted while other records use it.",
            status_code=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IntegrityError):
        # A constraint the serializer could not pre-check lost a race (two
        # requests adding the same identity at once): the data changed under us.
        return error_response(
            code="conflict", message="The change conflicts with data stored meanwhile.",
            status_code=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, RequestDataTooBig):
        # Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE when DRF asks for it.
        exc = RequestTooLarge()
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            code="invalid", message="The request is not valid.", status_code=status.HTTP_400_BAD_REQUEST,
            fields=_flatten(exc.detail), headers=response.headers,
        )
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code = "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else "authentication_failed"
    return error_response(
        code=str(code), message=str(detail), status_code=response.status_code, headers=response.headers,
    )
