"""Which stream and which shards the event relay reads: the table's current stream, its
shards (a parent to its end before its children, this relay's group only), and the move to a
new stream when the table's is replaced.

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
  starting at the last records it read, and compares (``orders.events.shard_reader``);
- treats a stream or shard that is gone (``ResourceNotFoundException``) as the sign to look
  for the table's current stream, and an expired or trimmed iterator as the sign to take a
  new one from its position.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from time import monotonic
from typing import Any

from botocore.exceptions import ClientError

from .relay_types import CLOSED, GONE, Checkpoints, ShardState, error_code

#: The relay's logger (its parts log as the relay).
log = logging.getLogger("orders.events.relay")


class StreamFollower:
    """The stream read and its shards (part of ``EventRelay``): kept apart from reading and
    publishing so that a replaced stream is handled in one place."""

    def __init__(
        self,
        *,
        streams: Any,
        stream_arn: Callable[[], str],
        checkpoints: Checkpoints,
        start_at: str,
        refresh_seconds: float,
        stream_check_seconds: float,
        group: int,
        groups: int,
    ):
        self._streams = streams
        self._stream_arn = stream_arn
        self._checkpoints = checkpoints
        self._refresh_seconds = refresh_seconds
        # How often the table is asked for its current stream.
        self._stream_check_seconds = stream_check_seconds
        # Several relays can share a stream, each reading the shards of its group; a child
        # shard in another group than its parent waits for the parent's "finished" checkpoint.
        self._group, self._groups = group, groups
        self.shards: dict[str, ShardState] = {}
        #: The stream being read.
        self.arn: str | None = None
        #: The table's current stream, when it is not the one read (yet).
        self.next_arn: str | None = None
        #: Where a shard without a checkpoint starts: ``start_at`` in the first stream read,
        #: the start of any stream that replaced it.
        self.start = start_at
        self._stream_status = ""
        self._unreadable = False
        #: The stream's shards have been listed once: any shard listed later is new.
        self._listed = False
        self._next_refresh = 0.0
        self._next_stream_check = 0.0

    @property
    def stream(self) -> str:
        """The stream's name for checkpoints: table and stream label."""
        return (self.arn or "").split(":table/", 1)[-1]

    def follow(self, checkpoint: Callable[[], None]) -> None:
        """Before a pass: look at the table's stream and the shard list when they are due, and
        leave the old stream for the new one once it is done (``checkpoint`` first records
        where the old one was left, should a relay look)."""
        if self.arn is None or monotonic() >= self._next_stream_check:
            self._check_stream()
        if monotonic() >= self._next_refresh:
            self._refresh_shards()
        if self.next_arn is not None and self._old_stream_done():
            checkpoint()
            self._follow_new_stream()
            self._refresh_shards()

    def refresh_soon(self) -> None:
        """List the shards again next pass (a shard ended: its children can be read now)."""
        self._next_refresh = 0.0

    def owns(self, shard_id: str) -> bool:
        """Whether this relay's group reads the shard (a stable hash of its id)."""
        return self._groups == 1 or zlib.crc32(shard_id.encode()) % self._groups == self._group

    def readable_shards(self) -> list[ShardState]:
        """This group's shards that may be read now, their checkpoints loaded: not finished,
        and their parent (if it is known) read to its end."""
        readable = []
        for shard in self.shards.values():
            if not self.owns(shard.shard_id):
                continue
            parent = self.shards.get(shard.parent_id) if shard.parent_id else None
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

    def gone(self, exc: ClientError) -> bool:
        """The stream read is not there any more: True when the table has another one (the
        next pass follows it); False when it names this one still."""
        if self.next_arn is None:
            self._check_stream()
        if self.next_arn is None:
            return False
        self._unreadable = True
        log.warning("event relay: stream %s can no longer be read: %s", self.arn, exc)
        return True

    def _check_stream(self) -> None:
        """Ask the table which stream it writes to now (``DescribeTable``)."""
        arn = self._stream_arn()
        self._next_stream_check = monotonic() + self._stream_check_seconds
        if self.arn is None:
            self.arn, self._next_refresh = arn, 0.0
        elif arn not in (self.arn, self.next_arn):
            log.warning(
                "the orders table's stream is now %s, no longer %s (disabled and enabled "
                "again, or the emulator restored the table): the relay reads what is left of "
                "the old stream, then the new one from its start",
                arn,
                self.arn,
            )
            self.next_arn, self._next_refresh = arn, 0.0

    def _old_stream_done(self) -> bool:
        """Whether to leave the stream read so far for the table's new one: it cannot be read
        any more, it is not closed (so it never ends), or this relay read its shards to the
        end."""
        if self._unreadable or self._stream_status not in CLOSED:
            return True
        return all(s.finished for s in self.shards.values() if self.owns(s.shard_id))

    def _follow_new_stream(self) -> None:
        old, new = self.arn, self.next_arn
        log.warning(
            "event relay now reads stream %s from its start (TRIM_HORIZON); it read %s until now%s",
            new,
            old,
            " (which can no longer be read)" if self._unreadable else "",
        )
        self.arn, self.next_arn, self.shards = new, None, {}
        self.start, self._stream_status, self._unreadable = "TRIM_HORIZON", "", False
        self._listed = False
        self._next_refresh = 0.0

    def _refresh_shards(self) -> None:
        start: str | None = None
        status = ""
        try:
            while True:
                kwargs: dict[str, Any] = {"StreamArn": self.arn}
                if start:
                    kwargs["ExclusiveStartShardId"] = start
                description = self._streams.describe_stream(**kwargs)["StreamDescription"]
                status = status or description.get("StreamStatus", "")
                for shard in description.get("Shards", []):
                    if shard["ShardId"] not in self.shards:
                        self.shards[shard["ShardId"]] = ShardState(
                            shard["ShardId"],
                            shard.get("ParentShardId"),
                            start=self.start if not self._listed else "TRIM_HORIZON",
                        )
                start = description.get("LastEvaluatedShardId")
                if not start:
                    break
        except ClientError as exc:
            if error_code(exc) not in GONE or not self.gone(exc):
                raise
            return
        if status in CLOSED and self._stream_status not in CLOSED:
            log.warning(
                "stream %s is %s: the table records no changes in it; the relay reads it to "
                "the end and then whichever stream the table has next",
                self.arn,
                status,
            )
        self._stream_status = status
        self._listed = True
        for shard in self.shards.values():
            if not self.owns(shard.shard_id) and not shard.finished:
                shard.loaded = False  # read its checkpoint again: has its relay finished it?
        self._next_refresh = monotonic() + self._refresh_seconds
