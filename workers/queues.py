"""The Celery side of the status queues: which queue is whose, and how its retries back off."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from orders.domain.workflow import STATUSES
from portal import container


def status_for_queue(queue_name: str) -> str | None:
    status = container.resources().status_for_queue(queue_name)
    return str(status) if status else None


def backoff_policy() -> dict[int, int]:
    """Seconds to hide a message after its n-th failed delivery: doubles each time, capped
    below SQS's 12-hour limit; the delivery after the last one goes to the dead-letter queue."""
    base = settings.ORDERS_RETRY_BACKOFF
    return {
        n: min(base * 2 ** (n - 1), 43_000)
        for n in range(1, settings.ORDERS_DLQ_MAX_RECEIVE_COUNT + 1)
    }


def task_name(status: str) -> str:
    """The Celery task that handles one status's events (the queue's messages name it)."""
    return f"orders.handle.{status}"


def status_queues() -> dict[str, dict[str, Any]]:
    """The queues this worker may read: its own status's only when ``runworker`` set
    ``ORDERS_WORKER_STATUS`` (least privilege: its IAM role reaches no other queue)."""
    resources = container.resources()
    queues = container.status_queues()
    policy = backoff_policy()
    only = settings.ORDERS_WORKER_STATUS
    return {
        resources.queue_name(status): {
            "url": queues.queue_url(status),
            "backoff_policy": policy,
            "backoff_tasks": [task_name(status)],
        }
        for status in STATUSES
        if not only or str(status) == only
    }
