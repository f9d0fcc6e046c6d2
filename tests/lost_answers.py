"""A write whose answer is lost: the request reaches the server and is applied, but the client
sees a read timeout and the SDK retries it, as happens when DynamoDB is slow to answer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import urllib3
from botocore.exceptions import ReadTimeoutError


@dataclass
class LostAnswers:
    """What the hook did: how many answers it dropped and the status each dropped one had."""

    operation: str
    times: int
    dropped: list[int] = field(default_factory=list)
    sent: int = 0


@contextlib.contextmanager
def answers_lost(client: Any, operation: str, *, times: int = 1) -> Iterator[LostAnswers]:
    """For the first try of the next ``times`` calls of ``operation`` on ``client``: send the
    request to the server for real, then drop the answer and raise the read timeout botocore
    retries on (its retry then gets its answer)."""
    record = LostAnswers(operation, times)
    http = urllib3.PoolManager()

    def lose(request: Any, **_: Any) -> None:
        record.sent += 1
        attempt = request.headers.get("amz-sdk-request", b"attempt=1;")
        first_try = b"attempt=1;" in (attempt if isinstance(attempt, bytes) else attempt.encode())
        if len(record.dropped) >= times or not first_try:
            return None  # botocore sends it as usual: its retries get their answers
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        response = http.request(
            request.method, request.url, body=body, headers=dict(request.headers.items())
        )
        record.dropped.append(response.status)
        raise ReadTimeoutError(endpoint_url=request.url, error="answer dropped by the test")

    event = f"before-send.{client.meta.service_model.service_name}.{operation}"
    client.meta.events.register(event, lose, unique_id=f"lose-{id(record)}")
    try:
        yield record
    finally:
        client.meta.events.unregister(event, unique_id=f"lose-{id(record)}")
        http.clear()
