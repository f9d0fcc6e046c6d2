"""The accepted worker's periodic backlog pass: runs again and again, survives a failing pass,
stops when told."""

from __future__ import annotations

from tests.support import wait_for
from workers.backlog import BacklogSweeper, serves_accepted


def test_the_sweeper_passes_repeatedly_and_a_failing_pass_does_not_stop_it():
    calls: list[int] = []

    def assign() -> list:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("DynamoDB is briefly unreachable")
        return ["an order"]

    sweeper = BacklogSweeper(assign, interval=0.01).start()
    try:
        wait_for(lambda: len(calls) >= 3, timeout=5, what="three passes")
    finally:
        sweeper.stop()
    assert not sweeper._thread.is_alive()  # stopped: no further pass


def test_only_a_worker_serving_the_accepted_queue_sweeps():
    assert serves_accepted("accepted")
    assert serves_accepted(None)  # a worker on every queue (make run's default)
    assert not serves_accepted("completed")
