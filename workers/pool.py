"""Celery's thread pool, able to take part in a cold shutdown.

Celery's soft shutdown waits WORKER_SOFT_SHUTDOWN_TIMEOUT for running tasks, then cancels
what still runs. Cancelling asks the pool to kill the job, which the thread pool cannot do (a
Python thread cannot be stopped from outside): Celery's own pool raises NotImplementedError
in the signal handler, aborting that shutdown step half way. Here the shutdown goes on and
the thread is left to finish: the worker exits once it has (its message is then acknowledged
as usual), or the orchestrator kills the process at the end of its grace period, and SQS makes
the message visible again when its visibility timeout ends. Nothing is lost either way.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.concurrency.thread import TaskPool

log = logging.getLogger(__name__)


class ThreadPool(TaskPool):
    def terminate_job(self, pid: Any, signal: Any = None) -> None:
        log.warning(
            "a task is still running after the soft-shutdown timeout; a thread cannot be "
            "interrupted, so the worker waits for it (if the process is killed first, SQS "
            "redelivers its message after the visibility timeout)"
        )
