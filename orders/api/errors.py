"""One error format for the API: RFC 9457 problem details, naming each bad field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from orders.domain import errors as domain

PROBLEM_TYPE_BASE = "urn:work-order-portal:problem:"


def problem(http_status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": http_status,
        "detail": detail,
    }
    body.update(extra)
    return Response(body, status=http_status, content_type="application/problem+json")


#: Domain errors a client can act on: HTTP status, problem code, title, extra members.
DOMAIN_PROBLEMS: dict[type[Exception], tuple[int, str, str, Any]] = {
    domain.OrderNotFound: (status.HTTP_404_NOT_FOUND, "not-found", "Not found", lambda e: {}),
    domain.DuplicateReference: (
        status.HTTP_409_CONFLICT,
        "duplicate-reference",
        "Duplicate external reference",
        lambda e: {"existing_order": f"/v1/orders/{e.order_id}"},
    ),
    domain.OrderAlreadyExists: (
        status.HTTP_409_CONFLICT,
        "conflict",
        "Already exists",
        lambda e: {},
    ),
    domain.IllegalTransition: (
        status.HTTP_409_CONFLICT,
        "illegal-transition",
        "Transition not allowed",
        lambda e: {"allowed": e.allowed},
    ),
    domain.ConcurrencyConflict: (
        status.HTTP_412_PRECONDITION_FAILED,
        "stale-version",
        "Order changed",
        lambda e: {"current_version": e.actual_version},
    ),
    domain.PermissionDenied: (
        status.HTTP_403_FORBIDDEN,
        "forbidden",
        "Not allowed",
        lambda e: {},
    ),
    domain.InvalidCursor: (
        status.HTTP_400_BAD_REQUEST,
        "invalid-cursor",
        "Invalid cursor",
        lambda e: {"errors": {"cursor": [str(e)]}},
    ),
}


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            if isinstance(key, int):  # an item of a list: status[1]
                flat.update(_flatten(value, f"{prefix}[{key}]"))
                continue
            name = key if key != "non_field_errors" else "body"
            flat.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
        return flat
    if isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        return {prefix or "body": [str(e) for e in errors]}
    if isinstance(errors, list):
        flat = {}
        for index, value in enumerate(errors):
            flat.update(_flatten(value, f"{prefix}[{index}]"))
        return flat
    return {prefix or "body": [str(errors)]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return problem(413, "body-too-large", "Request body too large", str(exc))
    if isinstance(exc, domain.ValidationError):
        return problem(
            status.HTTP_400_BAD_REQUEST,
            "invalid-input",
            "Invalid input",
            str(exc),
            errors=exc.errors,
        )
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        detail = "; ".join(f"{f}: {' '.join(p)}" for f, p in errors.items())
        return problem(
            status.HTTP_400_BAD_REQUEST, "invalid-input", "Invalid input", detail, errors=errors
        )
    if isinstance(exc, exceptions.ParseError):
        return problem(
            status.HTTP_400_BAD_REQUEST,
            "malformed-body",
            "Malformed request body",
            str(exc.detail),
            errors={"body": [str(exc.detail)]},
        )
    for error_type, (http_status, code, title, extra) in DOMAIN_PROBLEMS.items():
        if isinstance(exc, error_type):
            return problem(http_status, code, title, str(exc), **extra(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug, not the client's doing: Django's 500 handling takes over
    detail = str(response.data.get("detail", "")) if isinstance(response.data, dict) else ""
    code = HTTP_PROBLEM_CODES.get(response.status_code, "http-error")
    rendered = problem(response.status_code, code, response.status_text or "Error", detail)
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            rendered[header] = response[header]
    return rendered


HTTP_PROBLEM_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    415: "unsupported-media-type",
    429: "rate-limited",
}


def problem_response(http_status: int, code: str, title: str, detail: str) -> JsonResponse:
    """A problem document outside DRF (middleware, Django's error handlers)."""
    return JsonResponse(
        {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": http_status, "detail": detail},
        status=http_status,
        content_type="application/problem+json",
    )


def not_found_view(request, exception=None):
    """Unknown URLs under /v1/ answer in the API's error format; elsewhere Django's page."""
    if not request.path.startswith("/v1/"):
        return defaults.page_not_found(request, exception)
    return problem_response(404, "not-found", "Not found", "There is no such resource.")


def server_error_view(request):
    """A bug on our side: no details (they could leak internals), the same format as the rest."""
    if not request.path.startswith("/v1/"):
        return defaults.server_error(request)
    return problem_response(
        500,
        "server-error",
        "Internal error",
        "Something went wrong on our side; the request may be retried.",
    )
