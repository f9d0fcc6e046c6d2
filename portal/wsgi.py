"""The WSGI application gunicorn serves: Django's, behind one adapter for chunked bodies."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ChunkedBodyBuffer:
    """Reads a chunked request body (``Transfer-Encoding: chunked``, no ``Content-Length``)
    for Django, which reads only ``CONTENT_LENGTH`` bytes and so would see it as empty.

    Only where the server says the input ends by itself (``wsgi.input_terminated``, as gunicorn
    does); at most ``max_bytes(path)`` bytes, the path's limit as for a declared length: a
    longer body is a 413 problem document, answered without reading the rest."""

    def __init__(self, app: WSGIApp, max_bytes: Callable[[str], int]):
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if self._is_unsized_chunked(environ):
            limit = self.max_bytes(environ.get("PATH_INFO", ""))
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return too_large(start_response, limit)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)

    @staticmethod
    def _is_unsized_chunked(environ: dict[str, Any]) -> bool:
        return (
            bool(environ.get("wsgi.input_terminated"))
            and not environ.get("CONTENT_LENGTH")
            and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        )


def too_large(start_response: Callable[..., Any], limit: int) -> list[bytes]:
    """The API's 413 (apikit/limits.py says the same for a declared length)."""
    from apikit.problems import PROBLEM_TYPE_BASE

    body = json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + "body-too-large",
            "title": "Request body too large",
            "status": 413,
            "detail": f"The body is longer than the limit of {limit} bytes.",
        }
    ).encode()
    start_response(
        "413 Content Too Large",
        [("Content-Type", "application/problem+json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _api_max_body_bytes(path: str) -> int:
    from apikit.limits import body_limit

    return body_limit(path)


application = ChunkedBodyBuffer(get_wsgi_application(), max_bytes=_api_max_body_bytes)
