"""The event relay: publishes every committed order event to SNS, from the table's stream.

The orders table's DynamoDB stream is the outbox. Each write stores the order together with
the event of that change (``last_event``); the stream keeps every write, in order per order,
for 24 hours. The relay reads it shard by shard (a parent shard to its end before its
children, as DynamoDB requires for per-item order), publishes the events ten per call, and
checkpoints how far it got. A read (up to 1,000 records) is handled in chunks: each is
published and added to the feed, and the position is saved before the next chunk goes out
whenever ``checkpoint_events`` (100) events have been published since the last checkpoint or
``checkpoint_seconds`` (1 s) have passed since it, whichever comes first. A chunk is as large
as ``checkpoint_events`` allows: every chunk costs a few calls in a row whatever its size (a
round of ``PublishBatch``, the feed's writes, the checkpoint). But when ``progress_file`` says
the last two relays before this one both ended before they saved any checkpoint (killed
during their first chunk, each publishing the same events), the first chunk holds ten events
(one ``PublishBatch`` call) and each next one four times as many, up to
``checkpoint_events``, so that this one saves a checkpoint early. A crash or kill therefore
publishes at most one chunk (100 events) again (consumers skip the duplicates), and never
loses one. On ``SIGTERM`` a pass ends after the chunk in hand and the position is saved.

It also appends what it published to the integrators' event feeds (``repository.feed``),
which keep each event once however often it is published.

**The parts.** ``EventRelay`` runs the loop (passes, chunks, checkpoints, backoff, publishing
and projecting); it holds a ``StreamFollower`` (``stream_follower``: the table's current
stream, its shards, the move to a new stream when it is replaced) and a ``ShardReader``
(``shard_reader``: iterators, reads, the check of a quiet shard), and reports its progress
through ``RelayProgress`` (``relay_progress``). Its ports and small values are in
``relay_types``.

Each pass that completes, and each chunk published, is progress: ``progress_at``, exported as
``portal_relay_last_progress_timestamp_seconds`` and written to ``progress_file`` for the
readiness probe (``portal.health.check_relay``), which fails when the relay has made none
for ``EVENT_RELAY_STALL_SECONDS``.

Run one relay per table (``python manage.py relay_events``). Two at once publish events
twice, and their feed positions (each relay's clock) may interleave out of order.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from time import monotonic
from typing import Any

from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
)

from kernel import metrics

from .contract import EventMessage
from .relay_progress import ProgressFile, RelayProgress
from .relay_types import (
    CLOSED,
    GONE,
    HISTORY,
    Checkpoints,
    Decoder,
    Feed,
    MemoryCheckpoints,
    PollResult,
    Publisher,
    ShardState,
)
from .shard_reader import ShardReader, lag_seconds
from .stream_follower import StreamFollower

# What the relay's importers (the container, management commands, tests, bench) take from here.
__all__ = [
    "CHUNK_GROWTH",
    "CLOSED",
    "GONE",
    "HISTORY",
    "MAX_BACKOFF",
    "MIN_CHUNK",
    "UNSAVED_RELAYS",
    "Checkpoints",
    "Decoder",
    "EventRelay",
    "Feed",
    "MemoryCheckpoints",
    "PollResult",
    "ProgressFile",
    "Publisher",
    "ShardState",
]

log = logging.getLogger(__name__)

#: After this many relays in a row ended before their first checkpoint (one may just have
#: been unlucky): events in the first chunk (one PublishBatch call), and how much larger each
#: next chunk is, up to ``checkpoint_events``.
UNSAVED_RELAYS = 2
MIN_CHUNK = 10
CHUNK_GROWTH = 4
#: The longest pause after failed passes (doubling from 1 s).
MAX_BACKOFF = 30.0


def _timed_out(exc: BaseException) -> bool:
    """Whether a call timed out (here or in one of the publisher's lanes, whose errors it
    joins into one message)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(
            seen, ReadTimeoutError | ConnectTimeoutError | ConnectionClosedError | TimeoutError
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return "timeout" in str(exc).lower()


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
        stream_check_seconds: float = 5.0,
        checkpoint_seconds: float = 1.0,
        checkpoint_events: int = 100,
        timeout_backoff_seconds: float = 2.0,
        feed: Feed | None = None,
        projections: Sequence[Feed] = (),
        home_region: str = "",
        group: int = 0,
        groups: int = 1,
        progress_file: ProgressFile | None = None,
    ):
        if not 0 <= group < groups:
            raise ValueError(f"relay group {group} is not one of 0..{groups - 1}")
        self._publisher = publisher
        self._checkpoints = checkpoints
        self._decode = decode
        self._skip_prefix = skip_key_prefix
        # Checkpointing after every read would cost a write per batch; a crash replays at most
        # this many seconds of events (consumers skip the duplicates).
        self._checkpoint_seconds = checkpoint_seconds
        # ... and within a large read, one write per this many events: a restart publishes
        # at most this many again, at one checkpoint write per chunk.
        self._checkpoint_events = max(1, checkpoint_events)
        # A timed-out call already waited its timeout: the endpoint is busy, not down, and
        # the pause before the next pass stays short (other failures double up to 30 s).
        self._timeout_backoff = timeout_backoff_seconds
        # What else each published batch is added to: the event feed, throughput counts.
        self._projections = [p for p in (feed, *projections) if p is not None]
        # With a DynamoDB global table the stream also carries writes replicated from other
        # regions; their own region's relay publishes those. "" publishes everything.
        self._home_region = home_region
        self._group = group
        # The stream and its shards (this group's), and the reads of one shard.
        self._follower = StreamFollower(
            streams=streams,
            stream_arn=stream_arn,
            checkpoints=checkpoints,
            start_at=start_at,
            refresh_seconds=refresh_seconds,
            stream_check_seconds=stream_check_seconds,
            group=group,
            groups=groups,
        )
        self._reader = ShardReader(
            streams=streams,
            follower=self._follower,
            save=self._save,
            batch_limit=batch_limit,
            stream_check_seconds=stream_check_seconds,
        )
        self._progress = RelayProgress(
            progress_file, group=group, stream_arn=lambda: self._follower.arn
        )
        self._next_checkpoint = 0.0
        #: Events in the next chunk (see the module's docstring and ``run``).
        self._chunk = self._checkpoint_events
        self._stop: threading.Event | None = None
        self._projecting: ThreadPoolExecutor | None = None

    @property
    def stream(self) -> str:
        """The stream's name for checkpoints: table and stream label."""
        return self._follower.stream

    @property
    def stream_arn(self) -> str | None:
        """The stream being read."""
        return self._follower.arn

    @property
    def progress_at(self) -> float:
        """Unix time of the last progress (a completed pass or a published chunk)."""
        return self._progress.progress_at

    def owns(self, shard_id: str) -> bool:
        """Whether this relay's group reads the shard (a stable hash of its id)."""
        return self._follower.owns(shard_id)

    # -- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, idle_seconds: float) -> None:
        """Relay until ``stop`` is set (SIGTERM): pass after pass, pausing ``idle_seconds``
        when caught up and backing off after failures, then save the position reached."""
        failures = 0
        started = monotonic()
        self._stop = stop  # a pass ends between chunks when it is set
        unsaved_before = self._progress.start()
        if unsaved_before >= UNSAVED_RELAYS:
            # Killed (or crashed) before their first chunk was through, again and again,
            # each publishing the same events: this one starts with small chunks.
            self._chunk = MIN_CHUNK
            log.warning(
                "event relay: the last %s relays here ended before they saved a "
                "checkpoint; starting with chunks of %s events",
                unsaved_before,
                MIN_CHUNK,
            )
        self._progress.record(progress_at=0.0)
        while not stop.is_set():
            try:
                result = self.poll()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - keep relaying from the last chunk done
                failures += 1
                delay = self.backoff(failures, exc)
                log.warning("event relay failed (%s), retrying in %.1fs: %s", failures, delay, exc)
                stop.wait(delay)
                continue
            if started:
                log.info(
                    "event relay: first pass over %s done %.2fs after starting (%s records)",
                    self._follower.arn,
                    monotonic() - started,
                    result.records,
                )
                started = 0.0
            if not result.records:
                # Caught up: pause before reading again. After records it reads on at once, so
                # a burst of moves is published without waiting; a read refused for going over
                # DynamoDB Streams' five reads a second per shard is simply made next pass.
                stop.wait(idle_seconds)
        self.checkpoint()
        self._progress.stopped()

    def backoff(self, failures: int, exc: BaseException) -> float:
        """Seconds to wait after ``failures`` failed passes in a row: doubling up to 30 s, but
        at most ``timeout_backoff_seconds`` when a call timed out (it waited already)."""
        delay = min(MAX_BACKOFF, 0.5 * 2 ** min(failures, 6))
        return min(delay, self._timeout_backoff) if _timed_out(exc) else delay

    def checkpoint(self) -> None:
        """Record every shard's position that has moved since it was last recorded."""
        for shard in self._follower.shards.values():
            if shard.position != shard.saved and shard.loaded and self.owns(shard.shard_id):
                self._save(shard)
        self._next_checkpoint = monotonic() + self._checkpoint_seconds

    def _save(self, shard: ShardState) -> None:
        # What projections hold back (counts) is stored before the position that covers it:
        # a crash in between counts those events again, never loses them.
        for projection in self._projections:
            flush = getattr(projection, "flush", None)
            if flush is not None:
                flush()
        self._checkpoints.save(
            self.stream, shard.shard_id, sequence_number=shard.position, finished=shard.finished
        )
        shard.saved, shard.unsaved, shard.saved_at = shard.position, 0, monotonic()
        self._progress.saved()

    def poll(self) -> PollResult:
        """One pass over every shard that may be read now (in ``run``, ending between chunks
        once it is asked to stop)."""
        stop = self._stop
        self._follower.follow(self.checkpoint)
        result = PollResult()
        for shard in self._follower.readable_shards():
            if stop is not None and stop.is_set():
                break
            records, published = self._poll_shard(shard, stop)
            result.records += records
            result.published += published
            result.shards.append(shard.shard_id)
        metrics.OUTBOX_LAG.set(max((s.lag for s in self._follower.shards.values()), default=0.0))
        if monotonic() >= self._next_checkpoint:
            self.checkpoint()
        self._progress.progressed()
        return result

    # -- one shard's read, published in chunks ----------------------------------------------

    def _poll_shard(
        self, shard: ShardState, stop: threading.Event | None = None
    ) -> tuple[int, int]:
        response = self._reader.read(shard)
        if response is None:
            return 0, 0
        records = response.get("Records", [])
        metrics.OUTBOX_BATCH.observe(len(records))
        published = 0
        start = 0
        while start < len(records):
            if stop is not None and stop.is_set():
                shard.iterator = None  # stopping: the rest is read again from the position
                return start, published
            room = max(1, min(self._checkpoint_events - shard.unsaved, self._chunk))
            messages, others, last, end = self._messages(records, start, room)
            if messages:
                try:
                    self._publisher.publish(messages)
                    self._project(messages)
                except Exception:
                    shard.iterator = None  # read again from the last chunk done
                    raise
                for message in messages:
                    metrics.EVENTS_PUBLISHED.labels(
                        message.attributes.get("event_type", ""),
                        message.attributes.get("status", ""),
                    ).inc()
                published += len(messages)
                self._chunk = min(self._checkpoint_events, self._chunk * CHUNK_GROWTH)
            shard.history.extend(
                (r["dynamodb"]["SequenceNumber"], r.get("eventID")) for r in records[start:end]
            )
            shard.read_upto = last or shard.read_upto
            start = end
            if last and (messages or others):
                # A chunk of nothing but our own checkpoint writes leaves the position alone,
                # so that saving a checkpoint never calls for another one.
                shard.position = last
                shard.unsaved += len(messages)
            if shard.unsaved >= self._checkpoint_events or (
                shard.position != shard.saved
                and monotonic() - shard.saved_at >= self._checkpoint_seconds
            ):
                self._save(shard)  # before publishing on: a restart repeats one chunk at most
            if messages:
                self._progress.progressed()
        shard.lag = lag_seconds(records)
        next_iterator = response.get("NextShardIterator")
        if next_iterator is None:
            shard.finished = True
            self._save(shard)
            self._follower.refresh_soon()  # its children can be read now
        shard.iterator = next_iterator
        return len(records), published

    def _project(self, messages: list[EventMessage]) -> None:
        """Add published events to the feed and the throughput counts, both at once: each is
        a call or more in a row that the checkpoint waits for (a retry after a failure of
        either appends again, which the feed skips, and counts again, as a republish does)."""
        if len(self._projections) < 2:
            for projection in self._projections:
                projection.append(messages)
            return
        if self._projecting is None:
            self._projecting = ThreadPoolExecutor(
                len(self._projections), thread_name_prefix="project"
            )
        calls = [self._projecting.submit(p.append, messages) for p in self._projections]
        failures = [call.exception() for call in calls]  # waits for every one
        for failure in failures:
            if failure is not None:
                raise failure

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
