"""What each status's worker does: one handler per status in the workflow table.

A handler receives an event that has been checked to be well formed and to be one the stored
order committed, with that stored order, and calls the services. It must be idempotent: the
same event may be delivered more than once, and an event may arrive after the order has moved
on; ``OrderService.current`` tells those apart. After the handler, the task notifies the
stored order's integrator (webhooks), once per event whatever happens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from orders.domain.model import Actor, Order
from orders.domain.workflow import Status
from orders.events.contract import ReceivedEvent
from orders.services import OrderService

Handler = Callable[[OrderService, ReceivedEvent, Order], None]


def worker_actor(status: str) -> Actor:
    return Actor.system(f"worker:{status}")


def revision(event: ReceivedEvent, order: Order) -> int:
    """The order's own version at ``event`` (every change counted, staff-only ones too): the
    event is current while the order is still there. ``data.order.version`` counts as
    integrators do and cannot tell."""
    entry = order.entry(event.id)
    return entry.version if entry is not None else event.order_version


def review_received(service: OrderService, event: ReceivedEvent, order: Order) -> None:
    service.review(
        order_id=event.order_id,
        version=revision(event, order),
        actor=worker_actor(event.status),
        stored=order,
    )


def schedule_accepted(service: OrderService, event: ReceivedEvent, order: Order) -> None:
    # With every team full the order waits in accepted and the event is done with: capacity
    # freed or added assigns waiting orders, oldest first (OrderService.assign_waiting).
    service.schedule(
        order_id=event.order_id,
        version=revision(event, order),
        actor=worker_actor(event.status),
        stored=order,
    )


def record_only(service: OrderService, event: ReceivedEvent, order: Order) -> None:
    """Nothing to do beyond telling subscribers: the move itself recorded what happened
    (start time, resolution time, SLA met)."""


def release_team(service: OrderService, event: ReceivedEvent, order: Order) -> None:
    # Terminal statuses never go stale; the release is idempotent, so duplicates are harmless.
    # The freed slot goes to the category's longest-waiting order.
    service.release_team(order)


HANDLERS: Mapping[Status, Handler] = {
    Status.RECEIVED: review_received,
    Status.ACCEPTED: schedule_accepted,
    Status.SCHEDULED: record_only,
    Status.IN_PROGRESS: record_only,
    # Held: nothing to do but tell subscribers; the SLA clock is computed from the history.
    Status.ON_HOLD: record_only,
    Status.COMPLETED: release_team,
    Status.CANCELLED: release_team,
    Status.REJECTED: record_only,
}
