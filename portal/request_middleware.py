"""Per request: an id (echoed as X-Request-ID), metrics by route, and one structured log line.

It runs first, so every other log line written while the request is handled carries its
``request_id``, and an order's id once the URL names one. Routes are URL patterns
(``v1/orders/<str:order_id>``), never raw paths, so metric labels stay few.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from kernel import log_context, metrics

log = logging.getLogger("portal.request")

REQUEST_ID_HEADER = "X-Request-ID"
#: An incoming id is kept only if it is this shape (it ends up in logs and headers).
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
PROBES = frozenset({"/healthz", "/readyz"})


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + match.route
    if request.path_info in PROBES:
        return request.path_info
    return "<unmatched>"


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.perf_counter()
        with log_context.bind(request_id=request_id, order_id=None, event_id=None, queue=None):
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            route = route_of(request)
            metrics.HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
            metrics.HTTP_LATENCY.labels(route, request.method).observe(elapsed)
            if request.path_info not in PROBES:
                log.info(
                    "%s %s %s %.1f ms",
                    request.method,
                    route,
                    response.status_code,
                    elapsed * 1000,
                    extra={
                        "method": request.method,
                        "route": route,
                        "status": response.status_code,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )
        response[REQUEST_ID_HEADER] = request_id
        return response

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: dict[str, Any]
    ) -> None:
        order_id = kwargs.get("order_id")
        if isinstance(order_id, str):
            log_context.set_field("order_id", order_id)
        return None
