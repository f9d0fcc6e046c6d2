"""Independent reads issued at once: a page that needs one DynamoDB query per status (nine)
waits for the slowest of them, not for their sum.

Each call runs on a thread of a pool made for the call (no shared pool, so a call that fans
out again cannot starve itself), in a copy of the caller's context, so log fields follow it.
boto3 clients are thread-safe; the calls must not touch the Django database (a thread would
open a connection of its own and leave it open).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class FanOut:
    """Runs calls at once, at most ``workers`` at a time; 1 runs them one after another."""

    def __init__(self, workers: int = 1):
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers

    def __call__(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        """The calls' results, in the calls' order. If any raises, the first one's error is
        raised once every call has ended (none is left running behind the caller)."""
        if self.workers == 1 or len(calls) < 2:
            return [call() for call in calls]
        with ThreadPoolExecutor(
            max_workers=min(self.workers, len(calls)), thread_name_prefix="fan-out"
        ) as pool:
            futures = [pool.submit(contextvars.copy_context().run, call) for call in calls]
        return [future.result() for future in futures]

    def map(self, function: Callable[..., T], items: Sequence) -> list[T]:
        """``function(item)`` for each item, at once."""
        return self([lambda item=item: function(item) for item in items])


#: One after another: what code built without settings (tests, scripts) gets.
SEQUENTIAL = FanOut(1)
