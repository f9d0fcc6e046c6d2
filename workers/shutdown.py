"""Celery's soft shutdown, ended as soon as nothing runs any more.

Celery (5.5 to 5.7 at least) sleeps the whole ``worker_soft_shutdown_timeout`` once a task is
running when a cold shutdown starts, even if it finishes a moment later (celery/celery#9505):
every deploy or scale-in then waits the full timeout per worker. This worker waits only while
tasks still run, at most the timeout. The thread pool runs each task's completion (ack,
removal from the active requests) on the task's own thread, so the wait sees it at once; a
``prefork`` worker completes tasks on its main thread, which this wait holds, so it still
waits the whole timeout there, as Celery does.
"""

from __future__ import annotations

import logging
import time

from celery.apps.worker import Worker as CeleryWorker
from celery.worker import state

log = logging.getLogger(__name__)

#: How often the wait looks whether tasks still run.
POLL_SECONDS = 0.1


class Worker(CeleryWorker):
    def wait_for_soft_shutdown(self) -> None:
        timeout = self.app.conf.worker_soft_shutdown_timeout
        running = bool(state.active_requests) or self.app.conf.worker_enable_soft_shutdown_on_idle
        if timeout <= 0 or not running:
            return
        log.warning(
            "Initiating Soft Shutdown, terminating in %s seconds at most (at once when the "
            "%d running task(s) finish)",
            timeout,
            len(state.active_requests),
        )
        deadline = time.monotonic() + timeout
        while state.active_requests and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
