"""``BatchWriteItem`` with DynamoDB's rules kept: 25 requests per call, and what DynamoDB
leaves unprocessed (throttling) sent again after a growing pause."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

#: Requests one BatchWriteItem takes at most.
WRITE_BATCH = 25


class Unwritten(RuntimeError):
    """DynamoDB still left requests unprocessed after the attempts allowed."""


def batch_write(
    client: Any, table: str, requests: Iterable[dict[str, Any]], *, attempts: int | None = None
) -> None:
    """Send ``PutRequest`` / ``DeleteRequest`` items, WRITE_BATCH per call, resending what was
    left unprocessed; ``attempts`` bounds the calls per batch (None: until all are written)."""
    pending = list(requests)
    for start in range(0, len(pending), WRITE_BATCH):
        request = {table: pending[start : start + WRITE_BATCH]}
        delay, calls = 0.05, 0
        while True:
            response = client.batch_write_item(RequestItems=request)
            calls += 1
            request = response.get("UnprocessedItems") or None
            if not request:
                break
            if attempts is not None and calls >= attempts:
                raise Unwritten(f"DynamoDB left {len(request[table])} writes to {table} undone")
            time.sleep(delay)  # throttled: back off before writing the rest
            delay = min(delay * 2, 1.0)


def puts(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"PutRequest": {"Item": item}} for item in items]
