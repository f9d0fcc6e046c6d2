"""Independent reads issued at once, with their results in order and errors not lost."""

from __future__ import annotations

import threading
from contextvars import ContextVar

import pytest

from kernel.fan_out import SEQUENTIAL, FanOut


def test_calls_run_at_once_and_results_keep_the_calls_order():
    # Each call waits for all the others: only calls in flight together get past it.
    meeting = threading.Barrier(4, timeout=5)

    def call(n: int) -> int:
        meeting.wait()
        return n * n

    assert FanOut(4).map(call, [1, 2, 3, 4]) == [1, 4, 9, 16]


def test_at_most_workers_calls_are_in_flight():
    in_flight, peak, lock = 0, 0, threading.Lock()
    meeting = threading.Barrier(2, timeout=5)

    def call(_: int) -> None:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        meeting.wait()  # two at a time meet; a third would have nobody to meet
        with lock:
            in_flight -= 1

    FanOut(2).map(call, range(6))
    assert peak == 2


def test_one_worker_runs_the_calls_one_after_another_on_the_callers_thread():
    threads = SEQUENTIAL.map(lambda _: threading.get_ident(), range(3))
    assert threads == [threading.get_ident()] * 3


def test_the_first_error_is_raised_after_every_call_ended():
    ended = []

    def call(n: int) -> int:
        if n == 1:
            raise KeyError("first")
        if n == 3:
            raise ValueError("second")
        ended.append(n)
        return n

    with pytest.raises(KeyError, match="first"):
        FanOut(4).map(call, [0, 1, 2, 3])
    assert sorted(ended) == [0, 2]


def test_calls_see_the_callers_context():
    request_id: ContextVar[str] = ContextVar("request_id", default="none")
    request_id.set("r-42")
    assert FanOut(3).map(lambda _: request_id.get(), range(3)) == ["r-42"] * 3


def test_at_least_one_worker():
    with pytest.raises(ValueError):
        FanOut(0)
