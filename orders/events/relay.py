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

**Following the stream.** The stream a relay reads can be replaced: on AWS when the table's
stream is disabled and enabled again (a new stream ARN; the old one is closed and readable for
24 hours), and on the emulator whenever a ``TransactWriteItems`` fails (moto puts back a deep
copy of the table taken before the transaction: same stream ARN and shard id, but a new stream
object, while the iterators handed out before go on reading the old one, which gets no more
writes). So the relay

- asks the table for its current stream every ``stream_check_seconds`` (``DescribeTable``);
  when it has changed, it reads the old stream to the end of its closed shards (if it still
  can), then the new one from its start (``TRIM_HORIZON``), with a warning naming both;
- reads a shard that has been quiet for ``stream_check_seconds`` again from a new iterator,
  starting at the last records it read, and compares: records past the last one read mean
  its iterator had stopped seeing the shard (it reads on from the new one); a record other
  than the one read at the same sequence number means the shard was replaced (it goes back
  to the last record both agree on, so nothing written to the new copy is skipped);
- treats a stream or shard that is gone (``ResourceNotFoundException``) as the sign to look
  for the table's current stream, and an expired or trimmed iterator as the sign to take a
  new one from its position.

Each pass that completes, and each chunk published, is progress: ``progress_at``, exported as
``portal_relay_last_progress_timestamp_seconds`` and written to ``progress_file`` for the
readiness probe (``portal.health.check_relay``), which fails when the relay has made none
for ``EVENT_RELAY_STALL_SECONDS``.

Run one relay per table (``python manage.py relay_events``). Two at once publish events
twice, and their feed positions (each relay's clock) may interleave out of order.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from time import monotonic
from typing import Any, Protocol

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
)

from portal import metrics

from .contract import EventMessage

log = logging.getLogger(__name__)

#: Records of each shard remembered (sequence number, event id), to compare with a new read.
#: A failed transaction on the emulator leaves at most 100 records (its items) in the copy the
#: relay was reading that the new copy does not have.
HISTORY = 200
#: After this many relays in a row ended before their first checkpoint (one may just have
#: been unlucky): events in the first chunk (one PublishBatch call), and how much larger each
#: next chunk is, up to ``checkpoint_events``.
UNSAVED_RELAYS = 2
MIN_CHUNK = 10
CHUNK_GROWTH = 4
#: The longest pause after failed passes (doubling from 1 s).
MAX_BACKOFF = 30.0
#: Error codes of a stream or shard that is not there (any more).
GONE = ("ResourceNotFoundException",)
#: A stream DynamoDB has closed: its shards end, so it can be read to the end.
CLOSED = ("DISABLED", "DISABLING")


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
    #: Sequence number of the last record read (the relay's own checkpoint writes are read
    #: but leave ``position`` alone).
    read_upto: str | None = None
    #: (sequence number, event id) of the records read last, to compare with a new read.
    history: deque[tuple[str, str | None]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    #: When (monotonic) the shard is read again from a new iterator if it stays quiet.
    check_at: float = 0.0
    #: When (monotonic) ``saved`` was written, or read from the checkpoint store.
    saved_at: float = 0.0


@dataclass
class PollResult:
    records: int = 0
    published: int = 0
    shards: list[str] = field(default_factory=list)


def _error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


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


class ProgressFile:
    """When the relay last made progress, in a small JSON file: the readiness probe runs in
    another process (``portal.role ready``) and can only read it from there. It also says
    when the relay started, last saved a checkpoint and stopped cleanly, which the next relay
    started here (the same container, or pod) reads."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    @classmethod
    def of_relay(cls, table: str, group: int, *, path: str = "") -> ProgressFile:
        """``path``, or one file per table and relay group in the temporary directory."""
        return cls(path or Path(tempfile.gettempdir()) / f"portal-relay-{table}-{group}.json")

    def write(
        self,
        *,
        progress_at: float,
        stream: str,
        started_at: float = 0.0,
        saved_at: float = 0.0,
        stopped_at: float = 0.0,
        unsaved_before: int = 0,
    ) -> None:
        """Unix times (0 = not yet), and how many relays in a row before this one ended before
        they saved a checkpoint."""
        state = {
            "progress_at": progress_at,
            "stream": stream,
            "pid": os.getpid(),
            "started_at": started_at,
            "saved_at": saved_at,
            "stopped_at": stopped_at,
            "unsaved_before": unsaved_before,
        }
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, self.path)  # a reader never sees half a file

    def read(self) -> dict[str, Any]:
        """What was written last; {} when nothing was (or it cannot be read)."""
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def seconds_since_progress(self) -> float:
        """Raises ``FileNotFoundError`` while no relay has started; infinite while it has made
        none."""
        progress_at = float(json.loads(self.path.read_text())["progress_at"])
        return max(0.0, time.time() - progress_at) if progress_at else math.inf

    def relays_ended_unsaved(self) -> int:
        """How many relays in a row, the one that wrote it last included, started and ended
        (killed, crashed) before they saved any checkpoint."""
        last = self.read()
        started = float(last.get("started_at", 0.0))
        ended = max(float(last.get("saved_at", 0.0)), float(last.get("stopped_at", 0.0)))
        return int(last.get("unsaved_before", 0)) + 1 if started > ended else 0


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
        self._streams = streams
        self._stream_arn = stream_arn
        self._publisher = publisher
        self._checkpoints = checkpoints
        self._decode = decode
        self._skip_prefix = skip_key_prefix
        self._batch_limit = batch_limit
        self._refresh_seconds = refresh_seconds
        # How often the table is asked for its current stream, and how long a shard may stay
        # quiet before it is read again from a new iterator to see that its iterator still
        # reads what the stream holds.
        self._stream_check_seconds = stream_check_seconds
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
        # Several relays can share a stream, each reading the shards of its group; a child
        # shard in another group than its parent waits for the parent's "finished" checkpoint.
        self._group, self._groups = group, groups
        self._progress_file = progress_file
        self._next_checkpoint = 0.0
        self._shards: dict[str, ShardState] = {}
        self._arn: str | None = None
        #: The table's current stream, when it is not the one read (yet).
        self._next_arn: str | None = None
        #: Where a shard without a checkpoint starts: ``start_at`` in the first stream read,
        #: the start of any stream that replaced it.
        self._start = start_at
        self._stream_status = ""
        self._unreadable = False
        self._next_refresh = 0.0
        self._next_stream_check = 0.0
        #: Events in the next chunk (see the module's docstring and ``run``).
        self._chunk = self._checkpoint_events
        #: Unix times of this relay's start and last checkpoint, and how many relays before
        #: it ended before their first checkpoint, for ``progress_file``.
        self._started_at = self._saved_at = 0.0
        self._unsaved_before = 0
        #: Unix time of the last progress (a completed pass or a published chunk).
        self.progress_at = 0.0
        self._next_progress_write = 0.0
        self._stop: threading.Event | None = None
        self._projecting: ThreadPoolExecutor | None = None

    @property
    def stream(self) -> str:
        """The stream's name for checkpoints: table and stream label."""
        return (self._arn or "").split(":table/", 1)[-1]

    @property
    def stream_arn(self) -> str | None:
        """The stream being read."""
        return self._arn

    # -- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, idle_seconds: float) -> None:
        """Relay until ``stop`` is set (SIGTERM): pass after pass, pausing ``idle_seconds``
        when caught up and backing off after failures, then save the position reached."""
        failures = 0
        started = monotonic()
        self._stop = stop  # a pass ends between chunks when it is set
        self._started_at = time.time()
        # Counted from the start: a relay that never completes a pass shows as stalled too.
        metrics.RELAY_PROGRESS.labels(str(self._group)).set(self._started_at)
        if self._progress_file is not None:
            self._unsaved_before = self._progress_file.relays_ended_unsaved()
            if self._unsaved_before >= UNSAVED_RELAYS:
                # Killed (or crashed) before their first chunk was through, again and again,
                # each publishing the same events: this one starts with small chunks.
                self._chunk = MIN_CHUNK
                log.warning(
                    "event relay: the last %s relays here ended before they saved a "
                    "checkpoint; starting with chunks of %s events",
                    self._unsaved_before,
                    MIN_CHUNK,
                )
            self._record(progress_at=0.0)
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
                    self._arn,
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
        if self._progress_file is not None:
            self._record(progress_at=self.progress_at, stopped_at=time.time())

    def backoff(self, failures: int, exc: BaseException) -> float:
        """Seconds to wait after ``failures`` failed passes in a row: doubling up to 30 s, but
        at most ``timeout_backoff_seconds`` when a call timed out (it waited already)."""
        delay = min(MAX_BACKOFF, 0.5 * 2 ** min(failures, 6))
        return min(delay, self._timeout_backoff) if _timed_out(exc) else delay

    def checkpoint(self) -> None:
        """Record every shard's position that has moved since it was last recorded."""
        for shard in self._shards.values():
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
        first = self._saved_at < self._started_at
        self._saved_at = time.time()
        if first and self._progress_file is not None:
            self._record(progress_at=self.progress_at)  # at once: a kill now is no failure

    def poll(self) -> PollResult:
        """One pass over every shard that may be read now (in ``run``, ending between chunks
        once it is asked to stop)."""
        stop = self._stop
        if self._arn is None or monotonic() >= self._next_stream_check:
            self._check_stream()
        if monotonic() >= self._next_refresh:
            self._refresh_shards()
        if self._next_arn is not None and self._old_stream_done():
            self._follow_new_stream()
            self._refresh_shards()
        result = PollResult()
        for shard in self._readable_shards():
            if stop is not None and stop.is_set():
                break
            records, published = self._poll_shard(shard, stop)
            result.records += records
            result.published += published
            result.shards.append(shard.shard_id)
        metrics.OUTBOX_LAG.set(max((s.lag for s in self._shards.values()), default=0.0))
        if monotonic() >= self._next_checkpoint:
            self.checkpoint()
        self._progressed()
        return result

    def _progressed(self) -> None:
        now = time.time()
        self.progress_at = now
        metrics.RELAY_PROGRESS.labels(str(self._group)).set(now)
        if self._progress_file is not None and monotonic() >= self._next_progress_write:
            self._next_progress_write = monotonic() + 1.0  # at most a write a second
            self._record(progress_at=now)

    def _record(self, *, progress_at: float, stopped_at: float = 0.0) -> None:
        assert self._progress_file is not None
        try:
            self._progress_file.write(
                progress_at=progress_at,
                stream=self._arn or "",
                started_at=self._started_at,
                saved_at=self._saved_at,
                stopped_at=stopped_at,
                unsaved_before=self._unsaved_before,
            )
        except OSError as exc:
            log.warning("event relay: cannot record its progress for the probe: %s", exc)

    # -- the stream -------------------------------------------------------------------------

    def _check_stream(self) -> None:
        """Ask the table which stream it writes to now (``DescribeTable``)."""
        arn = self._stream_arn()
        self._next_stream_check = monotonic() + self._stream_check_seconds
        if self._arn is None:
            self._arn, self._next_refresh = arn, 0.0
        elif arn not in (self._arn, self._next_arn):
            log.warning(
                "the orders table's stream is now %s, no longer %s (disabled and enabled "
                "again, or the emulator restored the table): the relay reads what is left of "
                "the old stream, then the new one from its start",
                arn,
                self._arn,
            )
            self._next_arn, self._next_refresh = arn, 0.0

    def _old_stream_done(self) -> bool:
        """Whether to leave the stream read so far for the table's new one: it cannot be read
        any more, it is not closed (so it never ends), or this relay read its shards to the
        end."""
        if self._unreadable or self._stream_status not in CLOSED:
            return True
        return all(s.finished for s in self._shards.values() if self.owns(s.shard_id))

    def _follow_new_stream(self) -> None:
        old, new = self._arn, self._next_arn
        self.checkpoint()  # where the old stream was left, should a relay look
        log.warning(
            "event relay now reads stream %s from its start (TRIM_HORIZON); it read %s until now%s",
            new,
            old,
            " (which can no longer be read)" if self._unreadable else "",
        )
        self._arn, self._next_arn, self._shards = new, None, {}
        self._start, self._stream_status, self._unreadable = "TRIM_HORIZON", "", False
        self._next_refresh = 0.0

    def _gone(self, exc: ClientError) -> bool:
        """The stream read is not there any more: True when the table has another one (the
        next pass follows it); False when it names this one still."""
        if self._next_arn is None:
            self._check_stream()
        if self._next_arn is None:
            return False
        self._unreadable = True
        log.warning("event relay: stream %s can no longer be read: %s", self._arn, exc)
        return True

    # -- shards -----------------------------------------------------------------------------

    def _refresh_shards(self) -> None:
        start: str | None = None
        status = ""
        try:
            while True:
                kwargs: dict[str, Any] = {"StreamArn": self._arn}
                if start:
                    kwargs["ExclusiveStartShardId"] = start
                description = self._streams.describe_stream(**kwargs)["StreamDescription"]
                status = status or description.get("StreamStatus", "")
                for shard in description.get("Shards", []):
                    self._shards.setdefault(
                        shard["ShardId"], ShardState(shard["ShardId"], shard.get("ParentShardId"))
                    )
                start = description.get("LastEvaluatedShardId")
                if not start:
                    break
        except ClientError as exc:
            if _error_code(exc) not in GONE or not self._gone(exc):
                raise
            return
        if status in CLOSED and self._stream_status not in CLOSED:
            log.warning(
                "stream %s is %s: the table records no changes in it; the relay reads it to "
                "the end and then whichever stream the table has next",
                self._arn,
                status,
            )
        self._stream_status = status
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
                shard.saved, shard.saved_at = shard.position, monotonic()
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
            kwargs["ShardIteratorType"] = self._start
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

    def _poll_shard(
        self, shard: ShardState, stop: threading.Event | None = None
    ) -> tuple[int, int]:
        try:
            if shard.iterator is None:
                shard.iterator = self._iterator(shard)
                shard.check_at = monotonic() + self._stream_check_seconds
            if monotonic() >= shard.check_at:
                response = self._read_again(shard)
            else:
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
            if code in GONE:
                self._shard_gone(shard, exc)
                return 0, 0
            raise
        records = response.get("Records", [])
        if records:
            shard.check_at = monotonic() + self._stream_check_seconds
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
                self._progressed()
        shard.lag = _lag_seconds(records)
        next_iterator = response.get("NextShardIterator")
        if next_iterator is None:
            shard.finished = True
            self._save(shard)
            self._next_refresh = 0.0  # its children can be read now
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

    def _shard_gone(self, shard: ShardState, exc: ClientError) -> None:
        if self._gone(exc):
            return  # the next pass follows the table's new stream
        # The stream is the table's still, but this shard is gone (DynamoDB deletes a closed
        # shard 24 hours after its last record): nothing more can be read from it.
        log.error(
            "stream shard %s of %s is gone (%s): it is taken as read to its end after %s",
            shard.shard_id,
            self._arn,
            _error_code(exc),
            shard.position,
        )
        shard.finished, shard.iterator = True, None
        self._save(shard)
        self._next_refresh = 0.0

    def _read_again(self, shard: ShardState) -> dict[str, Any]:
        """Read a quiet shard again from a new iterator, from the first of the records it read
        last, and compare (see the module's docstring). Returns a read to handle like one of
        the iterator's: the records past the last one both reads agree on and the iterator
        after them, or no records and the iterator held when the new read cannot tell."""
        shard.check_at = monotonic() + self._stream_check_seconds
        keep: dict[str, Any] = {"Records": [], "NextShardIterator": shard.iterator}
        anchor = shard.history[0][0] if shard.history else shard.position
        kwargs: dict[str, Any] = {"StreamArn": self._arn, "ShardId": shard.shard_id}
        if anchor:
            kwargs.update(ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=anchor)
        elif self._start == "TRIM_HORIZON":
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            return keep  # started at the end and read nothing since: nothing to compare
        try:
            iterator = self._streams.get_shard_iterator(**kwargs)["ShardIterator"]
        except ClientError as exc:
            if _error_code(exc) == "TrimmedDataAccessException":
                return keep  # what it read last is past the retention: nothing to compare
            raise
        response = self._streams.get_records(ShardIterator=iterator, Limit=self._batch_limit)
        records = response.get("Records", [])
        known = dict(shard.history)
        upto = shard.read_upto or shard.position
        agreed: str | None = None
        for index, record in enumerate(records):
            sequence = record["dynamodb"]["SequenceNumber"]
            if upto is None or int(sequence) > int(upto):
                return self._read_on(shard, upto, records[index:], response)
            ours, theirs = known.get(sequence), record.get("eventID")
            if ours and theirs and ours != theirs:
                return self._rewind(shard, agreed, sequence, records[index:], response)
            agreed = sequence
        if agreed == upto:
            return {"Records": [], **_next(response)}  # the same records: its iterator from now
        return keep  # the read stopped short of what was read last: it cannot tell

    def _read_on(
        self,
        shard: ShardState,
        upto: str | None,
        records: list[dict[str, Any]],
        response: dict[str, Any],
    ) -> dict[str, Any]:
        """The new read has records past the last one read: they are handled, and its iterator
        is used from now on. The one held was stale if it still returns nothing."""
        try:
            held = self._streams.get_records(ShardIterator=shard.iterator, Limit=1)
        except ClientError:
            held = {"Records": [None]}  # expired or the like: no sign of a stale iterator
        if not held.get("Records"):
            log.warning(
                "stream shard %s of %s: its iterator returns nothing while the shard has "
                "records past %s; reading on from a new iterator",
                shard.shard_id,
                self._arn,
                upto or "its start",
            )
        return {"Records": records, **_next(response)}

    def _rewind(
        self,
        shard: ShardState,
        agreed: str | None,
        differs: str,
        records: list[dict[str, Any]],
        response: dict[str, Any],
    ) -> dict[str, Any]:
        log.warning(
            "stream shard %s of %s was replaced under the same name (record %s is another "
            "one now): reading it again after %s, the last record both copies have",
            shard.shard_id,
            self._arn,
            differs,
            agreed or "its start",
        )
        while shard.history and (agreed is None or int(shard.history[-1][0]) > int(agreed)):
            shard.history.pop()
        shard.read_upto = agreed
        if agreed is None:
            # Not even the first record compared is the same: read the whole shard again.
            shard.position, shard.iterator = None, None
            self._save(shard)
            iterator = self._streams.get_shard_iterator(
                StreamArn=self._arn, ShardId=shard.shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            return {"Records": [], "NextShardIterator": iterator}
        shard.position = agreed
        self._save(shard)  # a restart now must not start after records it never read
        return {"Records": records, **_next(response)}

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


def _next(response: dict[str, Any]) -> dict[str, Any]:
    """The iterator a read hands on (none: the shard is closed and read to its end)."""
    return {"NextShardIterator": response.get("NextShardIterator")}


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
