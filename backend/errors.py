"""One error format everywhere: RFC 9457 problem details with a stable ``code``.

Services raise subclasses of :class:`ApplicationError`; views never build error
bodies themselves. :func:`problem_exception_handler` (DRF's exception handler)
and the Django ``handler404`` / ``handler500`` views render every error,
including DRF's own and database errors, as ``application/problem+json``::

    {"type": "urn:clinic:problem:booking_conflict", "title": "Booking conflict",
     "status": 409, "detail": "...", "code": "booking_conflict", "errors": {}}
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, IntegrityError, InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain error with a stable machine-readable code and an HTTP status."""

    code: str = "application_error"
    http_status: int = 400
    title: str = ""

    def __init__(
        self,
        detail: str,
        *,
        errors: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}
        self.extra = extra or {}


class ValidationFailed(ApplicationError):
    code = "validation_error"
    http_status = 400


class UnprocessableRequest(ApplicationError):
    code = "unprocessable"
    http_status = 422


class Conflict(ApplicationError):
    code = "conflict"
    http_status = 409


def problem(
    *,
    status: int,
    code: str,
    detail: str,
    title: str = "",
    errors: dict[str, list[str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    # Extension members never replace the standard ones (``status`` is the HTTP status).
    body: dict[str, Any] = {**(extra or {})}
    body |= {
        "type": f"urn:clinic:problem:{code}",
        "title": title or code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "code": code,
        "errors": errors or {},
    }
    return body


def _flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested ``{field: [msg]}`` / ``[{...}]`` details as ``{"a.b": [msg]}``."""
    errors: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            field = "non_field_errors" if key == "non_field_errors" and not prefix else str(key)
            name = f"{prefix}.{field}" if prefix else field
            errors.update(_flatten_errors(value, name))
    elif isinstance(detail, list):
        messages = [str(item) for item in detail if not isinstance(item, (dict, list))]
        if messages:
            errors.setdefault(prefix or "non_field_errors", []).extend(messages)
        for index, item in enumerate(detail):
            if isinstance(item, (dict, list)) and item:
                errors.update(_flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        errors.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return errors


def _validation_detail(errors: dict[str, list[str]]) -> str:
    if not errors:
        return "The request is not valid."
    field, messages = next(iter(errors.items()))
    if field == "non_field_errors":
        return messages[0]
    return f"{field}: {messages[0]}" if len(errors) == 1 else "Some fields are not valid; see errors."


# Triggers refuse changes with SQLSTATE 23001 (restrict_violation) and a message "<code>: <detail>".
_TRIGGER_REFUSAL = re.compile(r"^([a-z][a-z_]*): (.+)$")


def _trigger_refusal(exc: IntegrityError) -> tuple[str, str] | None:
    diag = getattr(exc.__cause__, "diag", None)
    if diag is None or diag.sqlstate != "23001":
        return None
    match = _TRIGGER_REFUSAL.match(diag.message_primary or "")
    return (match[1], match[2]) if match else None


def problem_for_exception(exc: Exception) -> tuple[int, dict[str, Any]] | None:
    """The status and body for a known exception, or None for an unexpected one."""
    if isinstance(exc, ApplicationError):
        return exc.http_status, problem(
            status=exc.http_status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            extra=exc.extra,
        )
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, drf_exceptions.ValidationError):
        errors = _flatten_errors(exc.detail)
        return 400, problem(status=400, code="validation_error", detail=_validation_detail(errors), errors=errors)
    if isinstance(exc, drf_exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        return exc.status_code, problem(status=exc.status_code, code=str(code), detail=str(exc.detail))
    if isinstance(exc, Http404):
        return 404, problem(status=404, code="not_found", detail="Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return 403, problem(
            status=403, code="permission_denied", detail="You do not have permission to perform this action."
        )
    if isinstance(exc, IntegrityError):
        refusal = _trigger_refusal(exc)
        if refusal is not None:
            code, detail = refusal
            return 409, problem(status=409, code=code, detail=detail[:1].upper() + detail[1:] + ".")
        logger.warning("integrity error reached a view: %s", exc)
        return 409, problem(
            status=409,
            code="conflict",
            detail="The change conflicts with existing data; reload and try again.",
        )
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", exc)
        return 503, problem(
            status=503,
            code="service_unavailable",
            detail="The database is not reachable right now; nothing was changed. Try again shortly.",
        )
    if isinstance(exc, DataError):
        # PostgreSQL refused a value the application let through (found by fuzzing: a UTC offset of -23:57,
        # valid in Python, is out of PostgreSQL's range). The request is at fault, and nothing was written.
        logger.warning("data error reached a view: %s", exc)
        reason = str(exc).splitlines()[0] if str(exc) else "out of range"
        return 400, problem(
            status=400, code="validation_error", detail=f"A value is outside what the database accepts: {reason}."
        )
    if isinstance(exc, DatabaseError):
        logger.error("unexpected database error reached a view: %s", exc)
    return None


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: every handled error as problem details."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The connection is unusable; drop it so the next request reconnects.
        connection.close_if_unusable_or_obsolete()
    response = drf_exception_handler(exc, context)
    headers = dict(response.headers.items()) if response is not None else {}
    mapped = problem_for_exception(exc)
    if mapped is None:
        return None
    status, body = mapped
    request = context.get("request")
    renderer = getattr(request, "accepted_renderer", None)
    content_type = None if getattr(renderer, "format", "json") == "api" else PROBLEM_CONTENT_TYPE
    result = Response(body, status=status, content_type=content_type)
    for name, value in headers.items():
        if name.lower() in {"www-authenticate", "retry-after", "allow"}:
            result[name] = value
    return result


def problem_response(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem(status=status, code=code, detail=detail), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/") or request.headers.get("Accept", "").startswith("application/json"):
        return problem_response(404, "not_found", f"No endpoint or object at {request.path}.")
    return page_not_found(request, exception or Http404())


def handler500(request: HttpRequest) -> HttpResponse:
    return problem_response(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "server_error",
        "Something went wrong on our side; it has been logged.",
    )


def body_too_large(request: HttpRequest) -> bool:
    """The declared body is above ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (nothing has read it yet)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and length > limit


class ApiProblemMiddleware:
    """Every error answer under ``/api/`` is a problem document, with ``DEBUG`` on or off.

    DRF's own answers already are (``problem_exception_handler``); this catches what Django answers
    around them, such as ``DEBUG``'s HTML pages for an unknown path or a malformed id in a path,
    and refuses a body above ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with 413 before anything reads it.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and body_too_large(request):
            return problem_response(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "request_too_large",
                f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
            )
        response: HttpResponse = self.get_response(request)
        if (
            response.status_code < HTTPStatus.BAD_REQUEST
            or not request.path.startswith("/api/")
            or isinstance(response, Response)  # DRF's, the browsable API's HTML included
            or response.get("Content-Type", "").startswith(("application/json", PROBLEM_CONTENT_TYPE))
        ):
            return response
        if response.status_code == HTTPStatus.NOT_FOUND:
            return handler404(request)
        if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return handler500(request)
        status = HTTPStatus(response.status_code)
        return problem_response(status, status.phrase.lower().replace(" ", "_"), status.description or status.phrase)
