"""gunicorn's gthread worker, answering its own errors in the API's format.

gunicorn refuses some requests before Django sees them (a request line longer than
``limit_request_line`` is 414, too many or too large header fields 431, unparseable HTTP 400,
...) with a small HTML page. Clients of this service read RFC 9457 problem documents, so this
worker writes one instead. Which status an error gets, and its logging, stay gunicorn's: the
page gunicorn writes is captured and only its status line is kept.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

#: Problem codes (after the API's ``urn:work-order-portal:problem:``) by status.
PROBLEM_CODES = {
    400: "malformed-request",
    403: "forbidden",
    414: "request-line-too-long",
    417: "expectation-failed",
    431: "header-fields-too-large",
    500: "server-error",
    501: "not-implemented",
}
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ([^\r\n]*)")
DETAIL_MAX = 300


class _CapturedSocket:
    """Stands in for the client's socket while gunicorn writes its error page."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data


class ProblemThreadWorker(ThreadWorker):
    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        captured = _CapturedSocket()
        super().handle_error(req, captured, addr, exc)  # classifies, logs, access-logs
        found = _STATUS_LINE.match(captured.data)
        status, reason = (int(found[1]), found[2].decode("latin-1")) if found else (500, "")
        try:
            util.write_nonblock(client, problem_response(status, reason, self.detail(status, exc)))
        except Exception:
            self.log.debug("Failed to send error message.")

    def detail(self, status: int, exc: BaseException) -> str:
        cfg = self.cfg
        if status == 414:
            return (
                "The request line (method, path and query) is longer than "
                f"{cfg.limit_request_line} bytes."
            )
        if status == 431:
            return (
                f"The request has more than {cfg.limit_request_fields} header fields or one "
                f"longer than {cfg.limit_request_field_size} bytes."
            )
        if status >= 500 and status != 501:
            return "Something went wrong on our side; the request may be retried."
        return f"The request is not valid HTTP/1.1: {exc}"[:DETAIL_MAX]


def problem_response(status: int, reason: str, detail: str) -> bytes:
    """A complete HTTP/1.1 response carrying a problem document; the connection closes."""
    from apikit.problems import PROBLEM_TYPE_BASE  # Django is set up once the app is loaded

    reason = reason or "Internal Server Error"
    body = json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + PROBLEM_CODES.get(status, "http-error"),
            "title": reason,
            "status": status,
            "detail": detail,
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body
