"""The accepted worker's periodic pass over the orders waiting for a team.

Freeing capacity (the completed and cancelled workers) and adding it (the Team admin) assign
waiting orders at once. This pass is the safety net for a trigger that never ran: capacity
changed outside the admin, a trigger that failed on an AWS error, a reservation left by a
worker that died between reserving a team and scheduling. It runs in every accepted worker
(the process that owns the accepted -> scheduled move and its permissions); replicas passing
at the same time are safe, as every assignment is conditional.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class BacklogSweeper:
    """Calls ``assign`` every ``interval`` seconds on a daemon thread until stopped."""

    def __init__(self, assign: Callable[[], list], *, interval: float):
        self._assign = assign
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backlog-sweeper", daemon=True)

    def start(self) -> BacklogSweeper:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                assigned = self._assign()
            except Exception:  # noqa: BLE001 - the next pass tries again
                log.warning("the backlog pass failed; next in %ss", self._interval, exc_info=True)
                continue
            if assigned:
                log.info("backlog pass assigned %d waiting order(s)", len(assigned))


def serves_accepted(worker_status: str | None) -> bool:
    """Whether this worker process runs the accepted queue (no status set: every queue)."""
    return worker_status in (None, "", "accepted")
