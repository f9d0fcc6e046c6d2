"""Throughput: how many orders entered each status, minute by minute, for the admin's chart.

The event relay adds each published batch (one UpdateItem per minute the batch touches);
items ``STATS#minutes`` / ``<YYYY-MM-DDTHH:MM>`` hold a count per status and expire after two
days. Counts are at least the real number: a batch the relay publishes twice counts twice.
"""

from __future__ import annotations

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

    def append(self, messages: Sequence[EventMessage]) -> None:
        per_minute: dict[str, Counter] = {}
        for message in messages:
            per_minute.setdefault(minute_of(message), Counter())[message.attributes["status"]] += 1
        expires = str(int(time.time()) + RETENTION_SECONDS)
        for minute, counts in per_minute.items():
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
