"""What each status's worker does: one handler per status in the workflow table.

A handler receives an event that has been checked to be well formed, and calls the services.
It must be idempotent: the same event may be delivered more than once, and an event may
arrive after the order has moved on; ``OrderService.current`` tells those apart. After the
handler, the task notifies subscribers (webhooks), once per event whatever happens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from orders.domain.model import Actor
from orders.domain.workflow import Status
from orders.events.contract import ReceivedEvent
from orders.services import OrderService

Handler = Callable[[OrderService, ReceivedEvent], None]


def worker_actor(status: str) -> Actor:
    return Actor.system(f"worker:{status}")


def review_received(service: OrderService, event: ReceivedEvent) -> None:
    service.review(
        order_id=event.order_id, version=event.order_version, actor=worker_actor(event.status)
    )


def schedule_accepted(service: OrderService, event: ReceivedEvent) -> None:
    service.schedule(
        order_id=event.order_id, version=event.order_version, actor=worker_actor(event.status)
    )


def record_only(service: OrderService, event: ReceivedEvent) -> None:
    """Nothing to do beyond telling subscribers: the move itself recorded what happened
    (start time, resolution time, SLA met)."""


def release_team(service: OrderService, event: ReceivedEvent) -> None:
    # Terminal statuses never go stale; the release is idempotent, so duplicates are harmless.
    service.release_team(service.get_order(event.order_id))


HANDLERS: Mapping[Status, Handler] = {
    Status.RECEIVED: review_received,
    Status.ACCEPTED: schedule_accepted,
    Status.SCHEDULED: record_only,
    Status.IN_PROGRESS: record_only,
    Status.COMPLETED: release_team,
    Status.CANCELLED: release_team,
    Status.REJECTED: record_only,
}
