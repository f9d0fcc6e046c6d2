"""One error format for every API of the portal: RFC 9457 problem documents naming each bad
field.

Errors are mapped by kind (``kernel.errors``), not by name, so a context's own errors get the
right answer without this module knowing them. A context whose errors need more (another code
or status, extension members) registers them (:func:`register`); the most specific class in an
error's MRO that is registered wins, so ``register(OrderNotFound, ...)`` would override the
``NotFound`` kind for that error only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import Field
from rest_framework.views import exception_handler as drf_exception_handler

from kernel import errors as kinds

PROBLEM_TYPE_BASE = "urn:work-order-portal:problem:"
PROBLEM_CONTENT_TYPE = "application/problem+json"

#: Extension members of a problem document, from the error it reports.
Extra = Callable[[Any], dict[str, Any]]


def _no_extra(error: Exception) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class ProblemKind:
    """How one kind of error is answered: status, problem code and title, and the extension
    members it adds (``extra``). ``members`` documents those members in the ``Problem``
    component of the OpenAPI document (``apikit.openapi.ProblemSerializer``)."""

    status: int
    code: str
    title: str
    extra: Extra = _no_extra
    members: Mapping[str, Field] = field(default_factory=dict)


_registry: dict[type[Exception], ProblemKind] = {}


def register(
    error_type: type[Exception],
    status: int,
    code: str,
    title: str,
    *,
    extra: Extra = _no_extra,
    members: Mapping[str, Field] | None = None,
) -> None:
    """Answer ``error_type`` (and its subclasses, unless one is registered itself) with this
    problem. Registering a type again replaces its answer."""
    _registry[error_type] = ProblemKind(status, code, title, extra, dict(members or {}))


def kind_of(error: Exception) -> ProblemKind | None:
    """The problem registered for the most specific class of ``error``, if any."""
    for cls in type(error).__mro__:
        if cls in _registry:
            return _registry[cls]
    return None


def documented_members() -> dict[str, Field]:
    """Every registered problem's extension members, in the order they were registered."""
    members: dict[str, Field] = {}
    for kind in _registry.values():
        members.update(kind.members)
    return members


# The kinds every context shares (kernel.errors).
register(
    kinds.ValidationError,
    status.HTTP_400_BAD_REQUEST,
    "invalid-input",
    "Invalid input",
    extra=lambda e: {"errors": e.errors},
)
register(
    kinds.InvalidCursor,
    status.HTTP_400_BAD_REQUEST,
    "invalid-cursor",
    "Invalid cursor",
    extra=lambda e: {"errors": {"cursor": [str(e)]}},
)
register(kinds.PermissionDenied, status.HTTP_403_FORBIDDEN, "forbidden", "Not allowed")
register(kinds.NotFound, status.HTTP_404_NOT_FOUND, "not-found", "Not found")
register(kinds.Conflict, status.HTTP_409_CONFLICT, "conflict", "Conflict")


def problem(http_status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    """A problem document as a DRF response (views and the exception handler)."""
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": http_status,
        "detail": detail,
    }
    body.update(extra)
    return Response(body, status=http_status, content_type=PROBLEM_CONTENT_TYPE)


def problem_response(http_status: int, code: str, title: str, detail: str) -> JsonResponse:
    """A problem document outside DRF (middleware, Django's error handlers)."""
    return JsonResponse(
        {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": http_status, "detail": detail},
        status=http_status,
        content_type=PROBLEM_CONTENT_TYPE,
    )


#: Problem codes of DRF's and Django's own refusals, by status.
HTTP_PROBLEM_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    415: "unsupported-media-type",
    429: "rate-limited",
}
#: Headers of DRF's own answers that the client needs to act on the problem.
KEPT_HEADERS = ("WWW-Authenticate", "Retry-After", "Allow")


def flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as one level, each field named by its path: ``contact.email``,
    ``status[1]``; errors about the whole body are ``body``."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            if isinstance(key, int):  # an item of a list: status[1]
                flat.update(flatten(value, f"{prefix}[{key}]"))
                continue
            name = key if key != "non_field_errors" else "body"
            flat.update(flatten(value, f"{prefix}.{name}" if prefix else name))
        return flat
    if isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        return {prefix or "body": [str(e) for e in errors]}
    if isinstance(errors, list):
        flat = {}
        for index, value in enumerate(errors):
            flat.update(flatten(value, f"{prefix}[{index}]"))
        return flat
    return {prefix or "body": [str(errors)]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error a client can act on as a problem document;
    ``None`` for anything else (a bug: Django's 500 handling takes over)."""
    if isinstance(exc, RequestDataTooBig):
        return problem(413, "body-too-large", "Request body too large", str(exc))
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten(exc.detail)
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
    if (kind := kind_of(exc)) is not None:
        return problem(kind.status, kind.code, kind.title, str(exc), **kind.extra(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = str(response.data.get("detail", "")) if isinstance(response.data, dict) else ""
    code = HTTP_PROBLEM_CODES.get(response.status_code, "http-error")
    rendered = problem(response.status_code, code, response.status_text or "Error", detail)
    for header in KEPT_HEADERS:
        if header in response:
            rendered[header] = response[header]
    return rendered


#: Where the API lives: elsewhere (the admin) Django's own error pages are kept.
API_PREFIX = "/v1/"


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Unknown URLs under /v1/ answer in the API's error format; elsewhere Django's page."""
    if not request.path.startswith(API_PREFIX):
        return defaults.page_not_found(request, exception)
    return problem_response(404, "not-found", "Not found", "There is no such resource.")


def server_error_view(request: HttpRequest) -> HttpResponse:
    """A bug on our side: no details (they could leak internals), the same format as the rest."""
    if not request.path.startswith(API_PREFIX):
        return defaults.server_error(request)
    return problem_response(
        500,
        "server-error",
        "Internal error",
        "Something went wrong on our side; the request may be retried.",
    )
