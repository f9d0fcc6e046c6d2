"""Request bodies over the limit are refused with 413 before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import PROBLEM_TYPE_BASE


def too_large(detail: str) -> JsonResponse:
    return JsonResponse(
        {
            "type": PROBLEM_TYPE_BASE + "body-too-large",
            "title": "Request body too large",
            "status": 413,
            "detail": detail,
        },
        status=413,
        content_type="application/problem+json",
    )


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/v1/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0  # Django treats a bad length as none
            if length > settings.API_MAX_BODY_BYTES:
                return too_large(
                    f"The body has {length} bytes; the limit is {settings.API_MAX_BODY_BYTES}."
                )
        return self.get_response(request)
