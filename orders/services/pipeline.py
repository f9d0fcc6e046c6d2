"""The status workers' pipeline, in one place: an event delivered to its status's queue is
verified against the stored order, the status's step runs, and the order's integrator is
told. The Celery task (``workers.tasks``) only parses, routes and retries.

Every step must be idempotent: the same event may be delivered more than once, and an event
may arrive after the order has moved on; ``OrderChanges.current`` tells those apart. The
stored order decides, never the body: whose it is, and that it committed this very event."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from orders.domain import rules
from orders.domain.errors import ConcurrencyConflict
from orders.domain.model import Actor, Order
from orders.domain.workflow import Status
from orders.events.contract import ReceivedEvent, check_against_order

from .assignment import TeamAssignment
from .changes import OrderChanges
from .ports import Notifier

log = logging.getLogger(__name__)


def worker_actor(status: str) -> Actor:
    return Actor.system(f"worker:{status}")


def revision(event: ReceivedEvent, order: Order) -> int:
    """The order's own version at ``event`` (every change counted, staff-only ones too): the
    event is current while the order is still there. ``data.order.version`` counts as
    integrators do and cannot tell."""
    entry = order.entry(event.id)
    return entry.version if entry is not None else event.order_version


class WorkerPipeline:
    def __init__(
        self, changes: OrderChanges, *, assignment: TeamAssignment, notifier: Notifier
    ):
        self._changes = changes
        self.assignment = assignment
        self.notifier = notifier

    def handle(self, event: ReceivedEvent) -> Order:
        """Verify, run the step of the event's status, notify. Raises ``OrderNotFound`` or
        ``EventMismatch`` for an event no stored order committed (it can never succeed)."""
        order = self.verified_order(event)
        STEPS[Status(event.status)](self, event, order)
        self.notify(event, order)
        return order

    def verified_order(self, event: ReceivedEvent) -> Order:
        """The stored order ``event`` is about, once it is sure the order committed this very
        event (:class:`OrderNotFound`, or :class:`EventMismatch` for a forged or altered one).
        Workers act, and notify, on the stored order, never on what a body claims."""
        order = self._changes.store.get(event.order_id)
        check_against_order(event, order)
        return order

    def review(
        self, *, order_id: str, version: int, actor: Actor, stored: Order | None = None
    ) -> Order | None:
        """Received: check the business rules; accept (setting the SLA) or reject."""
        order = self._changes.current(
            order_id, status=Status.RECEIVED, version=version, stored=stored
        )
        if order is None:
            return None
        reason = rules.review(
            order,
            now=self._changes.clock(),
            served_categories=self._changes.teams.served_categories(),
        )
        try:
            if reason:
                moved, _ = self._changes.move(order, Status.REJECTED, actor=actor, reason=reason)
            else:
                moved, _ = self._changes.move(order, Status.ACCEPTED, actor=actor)
        except ConcurrencyConflict as exc:
            log.info("order %s moved while being reviewed: %s", order_id, exc)
            return None
        return moved

    def notify(self, event: ReceivedEvent, order: Order) -> int:
        """Tell the stored ``order``'s integrator (see :meth:`verified_order`); events about
        internal notes and attachments are for staff only and go to nobody."""
        if event.internal:
            return 0
        return self.notifier.notify(event, integrator=order.integrator)


Step = Callable[[WorkerPipeline, ReceivedEvent, Order], None]


def review_received(pipeline: WorkerPipeline, event: ReceivedEvent, order: Order) -> None:
    pipeline.review(
        order_id=event.order_id,
        version=revision(event, order),
        actor=worker_actor(event.status),
        stored=order,
    )


def schedule_accepted(pipeline: WorkerPipeline, event: ReceivedEvent, order: Order) -> None:
    # With every team full the order waits in accepted and the event is done with: capacity
    # freed or added assigns waiting orders, oldest first (TeamAssignment.assign_waiting).
    pipeline.assignment.schedule(
        order_id=event.order_id,
        version=revision(event, order),
        actor=worker_actor(event.status),
        stored=order,
    )


def record_only(pipeline: WorkerPipeline, event: ReceivedEvent, order: Order) -> None:
    """Nothing to do beyond telling subscribers: the move itself recorded what happened
    (start time, resolution time, SLA met)."""


def release_team(pipeline: WorkerPipeline, event: ReceivedEvent, order: Order) -> None:
    # Terminal statuses never go stale; the release is idempotent, so duplicates are harmless.
    # The freed slot goes to the category's longest-waiting order.
    pipeline.assignment.release_team(order)


#: Each status's step: one per status of the workflow table.
STEPS: Mapping[Status, Step] = {
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
