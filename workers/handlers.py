"""What each status's worker does: one handler per status in the workflow table.

A handler receives an event that has been checked to be well formed, and calls the services.
It must be idempotent: the same event may be delivered more than once, and an event may
arrive after the order has moved on; ``OrderService.current`` tells those apart.
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


def notify(service: OrderService, event: ReceivedEvent) -> None:
    order = service.current(event.order_id, status=event.status, version=event.order_version)
    if order is not None:
        service.notify(order, status=event.status, event_id=event.id)


def release_and_notify(service: OrderService, event: ReceivedEvent) -> None:
    # Terminal statuses never go stale, so a duplicate runs again: the release is idempotent,
    # the notification is repeated (it carries the event id for receivers to de-duplicate).
    order = service.get_order(event.order_id)
    service.release_team(order)
    if order.status == event.status:
        service.notify(order, status=event.status, event_id=event.id)


HANDLERS: Mapping[Status, Handler] = {
    Status.RECEIVED: review_received,
    Status.ACCEPTED: schedule_accepted,
    Status.SCHEDULED: notify,
    Status.IN_PROGRESS: notify,
    Status.COMPLETED: release_and_notify,
    Status.CANCELLED: release_and_notify,
    Status.REJECTED: notify,
}
