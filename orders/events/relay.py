"""The event relay: publishes every committed order event to SNS, from the table's stream.

The orders table's DynamoDB stream is the outbox. Each write stores the order together with
the event of that change (``last_event``); the stream keeps every write, in order per order,
for 24 hours. The relay reads it shard by shard (a parent shard to its end before its
children, as DynamoDB requires for per-item order), publishes the events ten per call, and
checkpoints how far it got. A read (up to 1,000 records) is handled in chunks: each is
published and added to the feed, and whenever ``checkpoint_events`` (100) events have been
published since the last checkpoint, the position is saved before the next chunk goes out
(quieter traffic is saved once a second). A crash or kill therefore publishes at most 100
events again (consumers skip the duplicates), and never loses one.

It also appends what it published to the integrators' event feeds (``repository.feed``),
which keep each event once however often it is published.

Run one relay per table (``python manage.py relay_events``). Two at once publish events
twice, and their feed positions (each relay's clock) may interleave out of order.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from time import monotonic
from typing import Any, Protocol

from botocore.exceptions import ClientError

from portal import metrics

from .contract import EventMessage

log = logging.getLogger(__name__)


class Checkpoints(Protocol):
    def load(self, stream: str, shard_id: str) -> tuple[str | None, bool]: ...

    def save(
        self, stream: str, shard_id: str, *, sequence_number: str | None, finished: bool
    ) -> None: ...


class Publisher(Protocol):
    def publish(self, messages: list[EventMessage]) -> None: ...


class Feed(Protocol):
    def append(self, messages: list[EventMessage]) -> None: ...


Decoder = Callable[[dict[str, Any] | None], EventMessage | None]


@dataclass
class ShardState:
    shard_id: str
    parent_id: str | None
    #: Sequence number of the last record handled (published or skipped).
    position: str | None = None
    #: The position last written to the checkpoint store.
    saved: str | None = None
    #: Events published since ``saved``: what a crash now would publish again.
    unsaved: int = 0
    finished: bool = False
    iterator: str | None = None
    loaded: bool = False
    #: Seconds the last read trailed the table's writes (``portal_outbox_lag_seconds``).
    lag: float = 0.0


@dataclass
class PollResult:
    records: int = 0
    published: int = 0
    shards: list[str] = field(default_factory=list)


def _error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


class EventRelay:
    def __init__(
        self,
        *,
        streams: Any,
        stream_arn: Callable[[], str],
        publisher: Publisher,
        checkpoints: Checkpoints,
        decode: Decoder,
        skip_key_prefix: str = "",
        start_at: str = "TRIM_HORIZON",
        batch_limit: int = 1000,
        refresh_seconds: float = 30.0,
        checkpoint_seconds: float = 1.0,
        checkpoint_events: int = 100,
        feed: Feed | None = None,
        projections: Sequence[Feed] = (),
        home_region: str = "",
        group: int = 0,
        groups: int = 1,
    ):
        if not 0 <= group < groups:
            raise ValueError(f"relay group {group} is not one of 0..{groups - 1}")
        self._streams = streams
        self._stream_arn = stream_arn
        self._publisher = publisher
        self._checkpoints = checkpoints
        self._decode = decode
        self._skip_prefix = skip_key_prefix
        self._start_at = start_at
        self._batch_limit = batch_limit
        self._refresh_seconds = refresh_seconds
        # Checkpointing after every read would cost a write per batch; a crash replays at most
        # this many seconds of events (consumers skip the duplicates).
        self._checkpoint_seconds = checkpoint_seconds
        # ... and within a large read, one write per this many events: a restart publishes
        # at most this many again, at one checkpoint write per chunk.
        self._checkpoint_events = max(1, checkpoint_events)
        # What else each published batch is added to: the event feed, throughput counts.
        self._projections = [p for p in (feed, *projections) if p is not None]
        # With a DynamoDB global table the stream also carries writes replicated from other
        # regions; their own region's relay publishes those. "" publishes everything.
        self._home_region = home_region
        # Several relays can share a stream, each reading the shards of its group; a child
        # shard in another group than its parent waits for the parent's "finished" checkpoint.
        self._group, self._groups = group, groups
        self._next_checkpoint = 0.0
        self._shards: dict[str, ShardState] = {}
        self._arn: str | None = None
        self._next_refresh = 0.0

    @property
    def stream(self) -> str:
        """The stream's name for checkpoints: table and stream label."""
        return (self._arn or "").split(":table/", 1)[-1]

    # -- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, idle_seconds: float) -> None:
        failures = 0
        while not stop.is_set():
            try:
                result = self.poll()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - keep relaying from the last chunk done
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("event relay failed (%s), retrying in %.1fs: %s", failures, delay, exc)
                stop.wait(delay)
                continue
            if not result.records:
                # Caught up: pause before reading again. After records it reads on at once, so
                # a burst of moves is published without waiting; a read refused for going over
                # DynamoDB Streams' five reads a second per shard is simply made next pass.
                stop.wait(idle_seconds)
        self.checkpoint()

    def checkpoint(self) -> None:
        """Record every shard's position that has moved since it was last recorded."""
        for shard in self._shards.values():
            if shard.position != shard.saved and shard.loaded and self.owns(shard.shard_id):
                self._save(shard)
        self._next_checkpoint = monotonic() + self._checkpoint_seconds

    def _save(self, shard: ShardState) -> None:
        self._checkpoints.save(
            self.stream, shard.shard_id, sequence_number=shard.position, finished=shard.finished
        )
        shard.saved, shard.unsaved = shard.position, 0

    def poll(self) -> PollResult:
        """One pass over every shard that may be read now."""
        if monotonic() >= self._next_refresh:
            self._refresh_shards()
        result = PollResult()
        for shard in self._readable_shards():
            records, published = self._poll_shard(shard)
            result.records += records
            result.published += published
            result.shards.append(shard.shard_id)
        metrics.OUTBOX_LAG.set(max((s.lag for s in self._shards.values()), default=0.0))
        if monotonic() >= self._next_checkpoint:
            self.checkpoint()
        return result

    # -- shards -----------------------------------------------------------------------------

    def _refresh_shards(self) -> None:
        arn = self._stream_arn()
        if arn != self._arn:
            self._arn, self._shards = arn, {}
        start: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StreamArn": arn}
            if start:
                kwargs["ExclusiveStartShardId"] = start
            description = self._streams.describe_stream(**kwargs)["StreamDescription"]
            for shard in description.get("Shards", []):
                self._shards.setdefault(
                    shard["ShardId"], ShardState(shard["ShardId"], shard.get("ParentShardId"))
                )
            start = description.get("LastEvaluatedShardId")
            if not start:
                break
        for shard in self._shards.values():
            if not self.owns(shard.shard_id) and not shard.finished:
                shard.loaded = False  # read its checkpoint again: has its relay finished it?
        self._next_refresh = monotonic() + self._refresh_seconds

    def owns(self, shard_id: str) -> bool:
        """Whether this relay's group reads the shard (a stable hash of its id)."""
        return self._groups == 1 or zlib.crc32(shard_id.encode()) % self._groups == self._group

    def _readable_shards(self) -> list[ShardState]:
        readable = []
        for shard in self._shards.values():
            if not self.owns(shard.shard_id):
                continue
            parent = self._shards.get(shard.parent_id) if shard.parent_id else None
            if parent is not None and not parent.loaded:
                # Another group's shard: its "finished" comes from that relay's checkpoint,
                # looked at again at every refresh of the shard list until it says so.
                parent.position, parent.finished = self._checkpoints.load(
                    self.stream, parent.shard_id
                )
                parent.saved = parent.position
                parent.loaded = True
            if not shard.loaded:
                shard.position, shard.finished = self._checkpoints.load(self.stream, shard.shard_id)
                shard.saved = shard.position
                shard.loaded = True
            if shard.finished:
                continue
            if parent is not None and not parent.finished:
                continue  # a child waits until its parent is read to the end
            readable.append(shard)
        return readable

    def _iterator(self, shard: ShardState) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self._arn, "ShardId": shard.shard_id}
        if shard.position:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.position)
        else:
            kwargs["ShardIteratorType"] = self._start_at
        try:
            return self._streams.get_shard_iterator(**kwargs)["ShardIterator"]
        except ClientError as exc:
            if _error_code(exc) != "TrimmedDataAccessException":
                raise
            log.error(
                "stream shard %s was trimmed past checkpoint %s: events older than the "
                "stream's 24-hour retention were never published",
                shard.shard_id,
                shard.position,
            )
            return self._streams.get_shard_iterator(
                StreamArn=self._arn, ShardId=shard.shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]

    def _poll_shard(self, shard: ShardState) -> tuple[int, int]:
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        try:
            response = self._streams.get_records(
                ShardIterator=shard.iterator, Limit=self._batch_limit
            )
        except ClientError as exc:
            code = _error_code(exc)
            if code in ("ExpiredIteratorException", "TrimmedDataAccessException"):
                shard.iterator = None  # start again from the last position
                return 0, 0
            if code in ("LimitExceededException", "ThrottlingException"):
                return 0, 0  # read too often: the pause before the next pass is enough
            raise
        records = response.get("Records", [])
        metrics.OUTBOX_BATCH.observe(len(records))
        published = 0
        start = 0
        while start < len(records):
            room = max(1, self._checkpoint_events - shard.unsaved)
            messages, others, last, start = self._messages(records, start, room)
            if messages:
                try:
                    self._publisher.publish(messages)
                    for projection in self._projections:
                        projection.append(messages)
                except Exception:
                    shard.iterator = None  # read again from the last chunk done
                    raise
                for message in messages:
                    metrics.EVENTS_PUBLISHED.labels(
                        message.attributes.get("event_type", ""),
                        message.attributes.get("status", ""),
                    ).inc()
                published += len(messages)
            if last and (messages or others):
                # A chunk of nothing but our own checkpoint writes leaves the position alone,
                # so that saving a checkpoint never calls for another one.
                shard.position = last
                shard.unsaved += len(messages)
            if shard.unsaved >= self._checkpoint_events:
                self._save(shard)  # before publishing on: a restart repeats one chunk at most
        shard.lag = _lag_seconds(records)
        next_iterator = response.get("NextShardIterator")
        if next_iterator is None:
            shard.finished = True
            self._save(shard)
            self._next_refresh = 0.0  # its children can be read now
        shard.iterator = next_iterator
        return len(records), published

    def _messages(
        self, records: list[dict[str, Any]], start: int, most: int
    ) -> tuple[list[EventMessage], int, str | None, int]:
        """From ``records[start:]``, up to ``most`` events to publish, how many other records
        of the table came with them (the relay's own checkpoint writes are not counted), the
        last sequence number looked at, and where the next chunk starts."""
        messages, others, last = [], 0, None
        index = start
        while index < len(records) and len(messages) < most:
            change = records[index]["dynamodb"]
            index += 1
            last = change["SequenceNumber"]
            key = change.get("Keys", {}).get("pk", {}).get("S", "")
            if self._skip_prefix and key.startswith(self._skip_prefix):
                continue
            new = self._decode(change.get("NewImage"))
            old = self._decode(change.get("OldImage"))
            replicated = bool(
                new is not None
                and self._home_region
                and new.region
                and new.region != self._home_region
            )
            if new is not None and not replicated and (old is None or old.event_id != new.event_id):
                messages.append(new)
            else:
                others += 1
        return messages, others, last, index


def _lag_seconds(records: list[dict[str, Any]]) -> float:
    """How long ago the last record read was written: 0 when the read found nothing new."""
    if not records:
        return 0.0
    written = records[-1]["dynamodb"].get("ApproximateCreationDateTime")
    if written is None:
        return 0.0
    if isinstance(written, datetime):
        written = written.timestamp()
    return max(0.0, time.time() - float(written))


class MemoryCheckpoints:
    """Checkpoints kept in memory: for tests, and relays that may start from the end."""

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], tuple[str | None, bool]] = {}

    def load(self, stream: str, shard_id: str) -> tuple[str | None, bool]:
        return self.saved.get((stream, shard_id), (None, False))

    def save(
        self, stream: str, shard_id: str, *, sequence_number: str | None, finished: bool
    ) -> None:
        self.saved[(stream, shard_id)] = (sequence_number, finished)
