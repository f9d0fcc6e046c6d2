"""The event relay's progress: the ``portal_relay_last_progress_timestamp_seconds`` gauge and
the small file (``ProgressFile``) the readiness probe and the next relay read. Apart from the
relay's loop because they are read from other processes and outlive the relay."""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from time import monotonic
from typing import Any

from kernel import metrics

log = logging.getLogger("orders.events.relay")


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


class RelayProgress:
    """One relay's progress as the gauge and ``ProgressFile`` (if it has one) show it: kept
    apart so the loop only says *that* it progressed, started, saved or stopped."""

    def __init__(
        self, file: ProgressFile | None, *, group: int, stream_arn: Callable[[], str | None]
    ):
        self._file = file
        self._group = str(group)
        #: The stream being read, written to the file with each record.
        self._stream_arn = stream_arn
        #: Unix times of the relay's start and last checkpoint, and how many relays before it
        #: ended before their first checkpoint.
        self._started_at = self._saved_at = 0.0
        self._unsaved_before = 0
        #: Unix time of the last progress (a completed pass or a published chunk).
        self.progress_at = 0.0
        self._next_write = 0.0

    def start(self) -> int:
        """The relay starts: counted from now (a relay that never completes a pass shows as
        stalled too). Returns how many relays in a row before it ended before they saved a
        checkpoint (0 without a file)."""
        self._started_at = time.time()
        metrics.RELAY_PROGRESS.labels(self._group).set(self._started_at)
        if self._file is not None:
            self._unsaved_before = self._file.relays_ended_unsaved()
        return self._unsaved_before

    def progressed(self) -> None:
        """A pass completed or a chunk went out: the gauge now, the file at most once a
        second."""
        now = time.time()
        self.progress_at = now
        metrics.RELAY_PROGRESS.labels(self._group).set(now)
        if self._file is not None and monotonic() >= self._next_write:
            self._next_write = monotonic() + 1.0  # at most a write a second
            self.record(progress_at=now)

    def saved(self) -> None:
        """A checkpoint was saved; the first one is recorded at once: a kill now is no
        failure for the next relay to count."""
        first = self._saved_at < self._started_at
        self._saved_at = time.time()
        if first:
            self.record(progress_at=self.progress_at)

    def stopped(self) -> None:
        """The relay stopped cleanly, its position saved."""
        self.record(progress_at=self.progress_at, stopped_at=time.time())

    def record(self, *, progress_at: float, stopped_at: float = 0.0) -> None:
        """Write the file (nothing without one); a failed write is logged, not raised: the
        relay goes on publishing."""
        if self._file is None:
            return
        try:
            self._file.write(
                progress_at=progress_at,
                stream=self._stream_arn() or "",
                started_at=self._started_at,
                saved_at=self._saved_at,
                stopped_at=stopped_at,
                unsaved_before=self._unsaved_before,
            )
        except OSError as exc:
            log.warning("event relay: cannot record its progress for the probe: %s", exc)
