"""The event feed: every event of an integrator's orders, in the order they were published.

Webhooks can be missed (a receiver down for days, an endpoint disabled); the feed lets an
integrator catch up or replay from any point with ``GET /v1/events?after=<cursor>``. The
event relay appends each batch it publishes: items ``FEED#<integrator>`` / ``<position>``
where the position is the relay's clock when it wrote the batch, strictly increasing. A
reader only gets items older than a short settling time, so that a batch still being written
can never be skipped by a cursor that moved past part of it.

Each event is in the feed once, although the relay publishes at least once, without a
write per event to say so. A relay re-reads what it already appended in two ways: within one
process (a failed publish reads the chunk again from the last checkpoint, a replaced stream
is read again from its start), which the feed's memory of the event ids it appended lately
covers; and after a restart (the chunk in flight when the last relay died, a lost
checkpoint), when only events written before this feed object started can be in the feed
already. For those, and only those, the feed reads the event ids its partitions got from a
little before the oldest such event was written up to its own start (a ``Query`` per
partition, keys and event ids only, read once and remembered), and skips what is there. A
relay that was down for long reads more of the feed once when it starts (every event
appended to the same partitions meanwhile by other relay groups); nothing is written for
it. Two relays appending the same event at the same moment (a rebalancing) can still both
append it: a page drops an event id it already holds.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from kernel.fan_out import SEQUENTIAL, FanOut
from orders.events.contract import EventMessage, is_internal

from .base import clamp_page_size
from .batch import WRITE_BATCH, batch_write, puts
from .cursor import decode_cursor, encode_cursor
from .packing import packed, unpacked
from .sharding import FEED_SHARDS, every_shard, merge, sharded

PREFIX = "FEED#"
#: How far the clocks of the process that wrote an order and of the relay may disagree: the
#: window an earlier relay's feed item is looked for in is this much wider on each side.
CLOCK_MARGIN_SECONDS = 5.0
#: Event ids a feed object remembers having appended (a chunk read again in the same process).
RECENT_EVENTS = 100_000
T = TypeVar("T")


def feed_partition(message: EventMessage) -> str:
    """The partition key of an event's feed item: the integrator's feed, write-sharded by the
    event (one integrator's events can be a quarter of everything the relay publishes)."""
    return sharded(PREFIX + message.integrator, message.event_id, FEED_SHARDS)


def feed_sort_key(position: int, message: EventMessage) -> str:
    """Position first (time order), then the event: unique even when two relays write at
    the same microsecond."""
    return f"{position:020d}#{message.event_id}"


def _position_key(seconds: float) -> str:
    return f"{max(0, int(seconds * 1_000_000)):020d}"


def _written_at(message: EventMessage) -> float:
    """When the order's change was stored, by its writer's clock (0 if unknown)."""
    if not message.created_at:
        return 0.0
    return datetime.fromisoformat(message.created_at.replace("Z", "+00:00")).timestamp()


def feed_item(message: EventMessage, position: int, expires: str) -> dict[str, Any]:
    """The item an event is in the feed as."""
    return {
        "pk": {"S": feed_partition(message)},
        "sk": {"S": feed_sort_key(position, message)},
        "event_id": {"S": message.event_id},
        "body": packed(message.body),
        "expires_at": {"N": expires},
    }


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
        fan_out: FanOut = SEQUENTIAL,
    ):
        self._client = client
        self._table = table_name
        self._secret = cursor_secret
        self._retention = retention_seconds
        self._settle = settle_seconds
        #: Writes a chunk's BatchWriteItem calls at once.
        self._fan_out = fan_out
        self._last = 0
        self._lock = threading.Lock()
        #: Only events written before this moment can have been appended by an earlier relay.
        self._started = time.time()
        #: Event ids this object appended lately, oldest first (a bounded set).
        self._recent: OrderedDict[str, None] = OrderedDict()
        #: partition -> (the earliest position read up to the start, event ids found there).
        self._earlier: dict[str, tuple[str, set[str]]] = {}

    def _position(self) -> int:
        """Microseconds since the epoch, strictly increasing within this process."""
        with self._lock:
            self._last = max(self._last + 1, time.time_ns() // 1000)
            return self._last

    def append(self, messages: Sequence[EventMessage]) -> None:
        """Add the events not in the feed yet, in order. Called by the relay, chunk after
        chunk. Positions are taken right before each write, so that a reader's settling time
        only has to cover one call."""
        expires = str(int(time.time()) + self._retention)
        # Events about internal notes and attachments are for staff: never in a feed.
        fresh = self._not_appended([m for m in messages if not is_internal(m)])
        for start in range(0, len(fresh), WRITE_BATCH * self._fan_out.workers):
            # Up to `workers` BatchWriteItem calls at once: one round of calls per chunk, so
            # a reader's settling time still only has to cover one call's time.
            chunk = fresh[start : start + WRITE_BATCH * self._fan_out.workers]
            positions = [self._position() for _ in chunk]
            self._write_at_once(
                feed_item(message, position, expires)
                for message, position in zip(chunk, positions, strict=True)
            )
            self._remember(m.event_id for m in chunk)

    def _remember(self, event_ids: Iterable[str]) -> None:
        with self._lock:
            for event_id in event_ids:
                self._recent[event_id] = None
            while len(self._recent) > RECENT_EVENTS:
                self._recent.popitem(last=False)

    def _not_appended(self, messages: Sequence[EventMessage]) -> list[EventMessage]:
        """The messages whose event is not in the feed yet (nor earlier in ``messages``)."""
        unique = _first_of_each(messages, lambda m: m.event_id)
        with self._lock:
            unique = [m for m in unique if m.event_id not in self._recent]
        earlier = [m for m in unique if _written_at(m) <= self._started + CLOCK_MARGIN_SECONDS]
        if not earlier:
            return unique
        since: dict[str, float] = {}
        for message in earlier:
            partition = feed_partition(message)
            since[partition] = min(since.get(partition, math.inf), _written_at(message))
        self._fan_out.map(lambda item: self._read_earlier(*item), list(since.items()))
        return [
            m
            for m in unique
            if m.event_id not in self._earlier.get(feed_partition(m), ("", set()))[1]
        ]

    def _read_earlier(self, partition: str, written_at: float) -> None:
        """Remember the event ids an earlier relay may have appended to ``partition`` for an
        event written at ``written_at``: from then (less the clock margin) to this feed's
        start (plus it). Each stretch of a partition is read once."""
        low = _position_key(written_at - CLOCK_MARGIN_SECONDS)
        read_from, found = self._earlier.get(partition, (None, set()))
        if read_from is not None and low >= read_from:
            return
        # Up to where a stretch already read begins, or (the first time) this feed's start.
        high = read_from or _position_key(self._started + CLOCK_MARGIN_SECONDS) + "~"
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": {"S": partition},
                ":low": {"S": low},
                ":high": {"S": high},
            },
            "ProjectionExpression": "event_id",
            "ConsistentRead": True,
        }
        ids = set(found)
        while True:
            response = self._client.query(**kwargs)
            ids.update(item["event_id"]["S"] for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        with self._lock:
            self._earlier[partition] = (low, ids)

    def _write_at_once(self, items: Iterable[dict[str, Any]]) -> None:
        """BatchWriteItem calls of WRITE_BATCH puts each, all at once (resubmitting what was
        left): the relay waits for one round of calls, not one call per 25 events."""
        requests = puts(items)
        batches = [requests[i : i + WRITE_BATCH] for i in range(0, len(requests), WRITE_BATCH)]
        self._fan_out.map(lambda batch: batch_write(self._client, self._table, batch), batches)

    def page(self, integrator: str, *, after: str | None, limit: int) -> FeedPage:
        """The integrator's events after the cursor, oldest first, merged from the feed's
        shards (read at once); only items older than the settling time."""
        scope = f"{self._table}/feed/{integrator}"
        position = decode_cursor(after, scope=scope, secret=self._secret)["p"] if after else ""
        settled = f"{int((time.time() - self._settle) * 1_000_000):020d}"
        size = clamp_page_size(limit)

        def read(partition: str) -> tuple[list[dict[str, Any]], str | None]:
            response = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                # Expired items linger until DynamoDB's TTL deletes them (up to a few days).
                FilterExpression="expires_at > :now",
                ExpressionAttributeValues={
                    ":now": {"N": str(int(time.time()))},
                    ":pk": {"S": partition},
                    # Inclusive: the item at the cursor itself is dropped below.
                    ":low": {"S": position or "0"},
                    ":high": {"S": settled},
                },
                ConsistentRead=True,
                Limit=size + 1,
            )
            items = [i for i in response.get("Items", []) if i["sk"]["S"] != position]
            last = response.get("LastEvaluatedKey")
            return items, (last["sk"]["S"] if last else None)

        fetched = self._fan_out.map(read, every_shard(PREFIX + integrator, FEED_SHARDS))
        items, next_key = merge(fetched, lambda i: i["sk"]["S"], size, newest_first=False)
        # Past the last item read, even one the expiry filter dropped, or a page of expired
        # items would be read again and again.
        if next_key is not None:
            position = next_key
        elif items:
            position = items[-1]["sk"]["S"]
        # Each event once, should two relays have appended it at the same moment.
        unique = _first_of_each(items, lambda i: i["event_id"]["S"])
        return FeedPage(
            events=[json.loads(unpacked(i["body"])) for i in unique],
            cursor=encode_cursor({"p": position}, scope=scope, secret=self._secret),
        )


def _first_of_each(things: Iterable[T], event_id: Callable[[T], str]) -> list[T]:
    """``things`` in their order, without a second one with the same event id."""
    seen: set[str] = set()
    unique = []
    for thing in things:
        if event_id(thing) not in seen:
            seen.add(event_id(thing))
            unique.append(thing)
    return unique
