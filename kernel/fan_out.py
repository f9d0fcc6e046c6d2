"""Independent reads issued at once: a page that needs one DynamoDB query per status (nine)
waits for the slowest of them, not for their sum.

Each call runs on a thread of a pool made for the call (no shared pool, so a call that fans
out again cannot starve itself), in a copy of the caller's context, so log fields follow it.
At most ``workers`` calls run at a time across nested fan-outs (a page's per-status reads that
each read their shards at once): a call that fans out again gives its slot up while it waits.
boto3 clients are thread-safe; the calls must not touch the Django database (a thread would
open a connection of its own and leave it open).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

#: The fan-out whose slot the current call holds, if any.
_holding: contextvars.ContextVar[FanOut | None] = contextvars.ContextVar("fan_out", default=None)


class FanOut:
    """Runs calls at once, at most ``workers`` at a time; 1 runs them one after another."""

    def __init__(self, workers: int = 1):
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self._slots = threading.BoundedSemaphore(workers)

    def __call__(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        """The calls' results, in the calls' order. If any raises, the first one's error is
        raised once every call has ended (none is left running behind the caller)."""
        if self.workers == 1 or len(calls) < 2:
            return [call() for call in calls]
        holding = _holding.get() is self
        if holding:
            self._slots.release()  # waiting is not reading: the nested calls may use it
        try:
            with ThreadPoolExecutor(
                max_workers=min(self.workers, len(calls)), thread_name_prefix="fan-out"
            ) as pool:
                futures = [
                    pool.submit(contextvars.copy_context().run, self._in_slot, call)
                    for call in calls
                ]
        finally:
            if holding:
                self._slots.acquire()
        return [future.result() for future in futures]

    def _in_slot(self, call: Callable[[], T]) -> T:
        with self._slots:
            token = _holding.set(self)
            try:
                return call()
            finally:
                _holding.reset(token)

    def map(self, function: Callable[..., T], items: Sequence) -> list[T]:
        """``function(item)`` for each item, at once."""
        return self([lambda item=item: function(item) for item in items])


#: One after another: what code built without settings (tests, scripts) gets.
SEQUENTIAL = FanOut(1)
