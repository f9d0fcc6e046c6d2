"""What the event relay (``orders.events.relay``) works with: the ports it is given
(checkpoints, publisher, feed, decoder) and the small values its parts pass around (a shard's
state, a pass's result). Its own module so that the relay's parts share them without
importing one another."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from .contract import EventMessage

#: Records of each shard remembered (sequence number, event id), to compare with a new read.
#: A failed transaction on the emulator leaves at most 100 records (its items) in the copy the
#: relay was reading that the new copy does not have.
HISTORY = 200
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
    #: Where it is read from without a checkpoint: the relay's ``start_at`` for a shard
    #: that was there when the relay started, ``TRIM_HORIZON`` for one that appeared later
    #: (everything in it is newer than the start: at its end, its first records are lost).
    start: str = "TRIM_HORIZON"


@dataclass
class PollResult:
    records: int = 0
    published: int = 0
    shards: list[str] = field(default_factory=list)


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


def error_code(exc: ClientError) -> str:
    """The AWS error code of a failed call ("" when it has none)."""
    return exc.response.get("Error", {}).get("Code", "")
