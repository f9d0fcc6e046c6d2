"""The event feed: every event of an integrator's orders, in the order they were published.

Webhooks can be missed (a receiver down for days, an endpoint disabled); the feed lets an
integrator catch up or replay from any point with ``GET /v1/events?after=<cursor>``. The
event relay appends each batch it publishes: items ``FEED#<integrator>`` / ``<position>``
where the position is the relay's clock when it wrote the batch, strictly increasing. A
reader only gets items older than a short settling time, so that a batch still being written
can never be skipped by a cursor that moved past part of it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orders.events.contract import EventMessage

from .base import clamp_page_size
from .cursor import decode_cursor, encode_cursor

PREFIX = "FEED#"
#: Items written in one BatchWriteItem call.
WRITE_BATCH = 25


@dataclass(frozen=True)
class FeedPage:
    events: list[dict[str, Any]]
    #: Pass back as ``after``. Never null: with no new events it is the same position.
    cursor: str


class DynamoFeed:
    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        cursor_secret: bytes,
        retention_seconds: int,
        settle_seconds: float = 2.0,
    ):
        self._client = client
        self._table = table_name
        self._secret = cursor_secret
        self._retention = retention_seconds
        self._settle = settle_seconds
        self._last = 0
        self._lock = threading.Lock()

    def _position(self) -> int:
        """Microseconds since the epoch, strictly increasing within this process."""
        with self._lock:
            self._last = max(self._last + 1, time.time_ns() // 1000)
            return self._last

    def append(self, messages: Sequence[EventMessage]) -> None:
        """Add the events, in order. Called by the one relay, batch after batch. Positions
        are taken right before each write, so that a reader's settling time only has to
        cover one call."""
        expires = str(int(time.time()) + self._retention)
        for start in range(0, len(messages), WRITE_BATCH):
            request = {
                self._table: [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": PREFIX + message.integrator},
                                "sk": {"S": f"{self._position():020d}"},
                                "event_id": {"S": message.event_id},
                                "body": {"S": message.body},
                                "expires_at": {"N": expires},
                            }
                        }
                    }
                    for message in messages[start : start + WRITE_BATCH]
                ]
            }
            delay = 0.05
            while request:
                response = self._client.batch_write_item(RequestItems=request)
                request = response.get("UnprocessedItems") or None
                if request:
                    time.sleep(delay)  # throttled: back off before writing the rest
                    delay = min(delay * 2, 1.0)

    def page(self, integrator: str, *, after: str | None, limit: int) -> FeedPage:
        scope = f"{self._table}/feed/{integrator}"
        position = decode_cursor(after, scope=scope, secret=self._secret)["p"] if after else ""
        settled = f"{int((time.time() - self._settle) * 1_000_000):020d}"
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            # Expired items linger until DynamoDB's TTL deletes them (up to a few days).
            FilterExpression="expires_at > :now",
            ExpressionAttributeValues={
                ":now": {"N": str(int(time.time()))},
                ":pk": {"S": PREFIX + integrator},
                # BETWEEN is inclusive; "<position>!" sorts right after the position itself.
                ":low": {"S": f"{position}!" if position else "0"},
                ":high": {"S": settled},
            },
            ConsistentRead=True,
            Limit=clamp_page_size(limit),
        )
        items = response.get("Items", [])
        # Past the last item read, even one the expiry filter dropped, or a page of expired
        # items would be read again and again.
        last_read = response.get("LastEvaluatedKey") or (items[-1] if items else None)
        if last_read:
            position = last_read["sk"]["S"]
        return FeedPage(
            events=[json.loads(i["body"]["S"]) for i in items],
            cursor=encode_cursor({"p": position}, scope=scope, secret=self._secret),
        )
