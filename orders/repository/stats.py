"""Throughput: how many orders entered each status, minute by minute, for the admin's chart.

The event relay adds what it publishes to counts it holds, and writes them (one UpdateItem
per minute touched) right before it saves its place in the stream — after 100 events or a
second, whichever comes first — instead of a write per batch published. Items ``STATS#minutes`` /
``<YYYY-MM-DDTHH:MM>`` hold a count per status and expire after two days. Counts are at least
the real number: events the relay publishes again after a crash count again.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from orders.events.contract import EventMessage

PK = "STATS#minutes"
RETENTION_SECONDS = 2 * 24 * 3600


def minute_of(message: EventMessage) -> str:
    return message.created_at[:16]  # "2026-11-26T23:59"


class DynamoThroughput:
    def __init__(self, client: Any, table_name: str):
        self._client = client
        self._table = table_name
        self._held: dict[str, Counter] = {}
        self._lock = threading.Lock()

    def append(self, messages: Sequence[EventMessage]) -> None:
        """Count the published events (written by :meth:`flush`)."""
        with self._lock:
            for message in messages:
                minute = self._held.setdefault(minute_of(message), Counter())
                minute[message.attributes["status"]] += 1

    def flush(self) -> None:
        """Add the counts held to the stored ones; what a failed write held is kept."""
        with self._lock:
            held, self._held = self._held, {}
        expires = str(int(time.time()) + RETENTION_SECONDS)
        try:
            self._write(held, expires)
        except Exception:
            with self._lock:
                for minute, counts in held.items():
                    self._held.setdefault(minute, Counter()).update(counts)
            raise

    def _write(self, per_minute: dict[str, Counter], expires: str) -> None:
        while per_minute:
            minute, counts = next(iter(per_minute.items()))
            names = {f"#s{i}": status for i, status in enumerate(counts)}
            values = {f":n{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": PK}, "sk": {"S": minute}},
                UpdateExpression="ADD "
                + ", ".join(f"#s{i} :n{i}" for i in range(len(counts)))
                + " SET expires_at = :expires",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, ":expires": {"N": expires}},
            )
            del per_minute[minute]  # written: not kept should a later minute fail

    def last_hour(self, *, now: datetime | None = None) -> list[tuple[str, dict[str, int]]]:
        """(minute, {status: count}) for each of the last 60 minutes, oldest first."""
        now = now or datetime.now(UTC)
        minutes = [
            (now - timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M") for m in range(59, -1, -1)
        ]
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": PK},
                ":first": {"S": minutes[0]},
                ":last": {"S": minutes[-1]},
            },
        )
        found = {
            item["sk"]["S"]: {
                name: int(value["N"])
                for name, value in item.items()
                if name not in ("pk", "sk", "expires_at")
            }
            for item in response.get("Items", [])
        }
        return [(minute, found.get(minute, {})) for minute in minutes]
