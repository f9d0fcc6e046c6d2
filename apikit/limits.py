"""Request bodies over the limit are refused with 413 before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .problems import API_PREFIX, problem_response


def body_limit(path: str) -> int:
    """The largest body a request to ``path`` may send: ``API_MAX_BODY_BYTES``, or what
    ``API_BODY_LIMITS`` gives the few routes that take a batch (a sites import)."""
    return getattr(settings, "API_BODY_LIMITS", {}).get(path, settings.API_MAX_BODY_BYTES)


class BodySizeLimitMiddleware:
    """Refuses an API request whose declared length is over its route's limit
    (:func:`body_limit`; a body sent without one is cut off at the same size by
    ``portal.wsgi``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0  # Django treats a bad length as none
            limit = body_limit(request.path)
            if length > limit:
                return problem_response(
                    413,
                    "body-too-large",
                    "Request body too large",
                    f"The body has {length} bytes; the limit is {limit}.",
                )
        return self.get_response(request)
