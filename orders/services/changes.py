"""How every use case changes an order: read it, check the caller's version, apply the rule,
write it conditionally on the status and version it was read at, and on a lost race read it
again and retry. One place, so that intake, the timeline, field work, team assignment and the
workers all change orders the same way."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from kernel import metrics
from orders.domain import rules
from orders.domain.errors import ConcurrencyConflict
from orders.domain.model import Actor, Order, OrderEvent
from orders.domain.sla import BusinessCalendar
from orders.events.contract import to_message
from orders.repository.base import OrderStore
from orders.selectors import OrderSelector

from .ports import TeamDirectory

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How many times a change is tried on a fresh read when another change to the order won the
#: race for its version (each round one of the racers wins, so ten writers at once all land).
CHANGE_ATTEMPTS = 10


def require_version(order: Order, expected_version: int) -> None:
    """Refuse a change made on a stale read of the order (optimistic concurrency). The
    version callers hold is :attr:`Order.public_version` (the API's ETag, the admin's forms):
    a change nobody acting on the order needs to see again (a staff member's internal note)
    does not make their read stale. The write itself is conditional on every change."""
    if order.public_version != expected_version:
        raise ConcurrencyConflict(
            order_id=order.id,
            expected_status=order.status,
            expected_version=expected_version,
            actual_status=order.status,
            actual_version=order.public_version,
        )


class OrderChanges:
    """The write path the use cases share (the store for writes, the selector for reads)."""

    def __init__(
        self,
        *,
        store: OrderStore,
        read: OrderSelector,
        teams: TeamDirectory,
        clock: Callable[[], datetime],
    ):
        self.store = store
        self.read = read
        self.teams = teams
        self.clock = clock

    def calendar(self, order: Order) -> BusinessCalendar:
        """The working hours the order's SLA counts in: its team's."""
        return self.teams.calendar(order.assigned_team)

    def changing(
        self,
        order_id: str,
        change: Callable[[Order], T],
        *,
        integrator: str | None,
        expected_version: int | None,
    ) -> T:
        """``change`` applied to the order as stored now. When another change wins the race
        for the order's version, read it again and retry, while the caller's condition
        (``expected_version``) still holds: the caller asked for no more than that, so a note
        or a staff member's internal change landing first is no reason to refuse it."""
        for attempt in range(1, CHANGE_ATTEMPTS + 1):
            order = self.read.get_order(order_id, integrator=integrator)
            if expected_version is not None:
                require_version(order, expected_version)
            try:
                return change(order)
            except ConcurrencyConflict as exc:
                if attempt == CHANGE_ATTEMPTS:
                    now = self.store.get(order_id)
                    raise ConcurrencyConflict(  # in the versions callers hold
                        order_id=order_id,
                        expected_status=exc.expected_status,
                        expected_version=order.public_version,
                        actual_status=now.status,
                        actual_version=now.public_version,
                    ) from exc
                log.info("order %s changed meanwhile (%s): trying again", order_id, exc)
                # Racers spread out, so that each round is not the same pile-up.
                time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))
        raise AssertionError("unreachable")

    def for_change(
        self, order_id: str, *, integrator: str | None, expected_version: int | None
    ) -> Order:
        """The order to change once, refused if the caller's read of it is stale."""
        order = self.read.get_order(order_id, integrator=integrator)
        if expected_version is not None:
            require_version(order, expected_version)
        return order

    def save(self, order: Order, changed: Order, event: OrderEvent, *, adds=()) -> Order:
        """Write ``changed`` (with its event, and a note or attachment in ``adds``) if the
        order is still as read."""
        self.store.save_move(
            changed,
            to_message(event),
            expected_status=order.status,
            expected_version=order.version,
            adds=adds,
        )
        return changed

    def move(
        self,
        order: Order,
        to: str,
        *,
        actor: Actor,
        reason: str | None = None,
        team: str | None = None,
    ) -> tuple[Order, OrderEvent]:
        """Move the order along the workflow as ``actor`` and write the move."""
        moved, event = rules.move(
            order,
            to,
            actor=actor,
            now=self.clock(),
            reason=reason,
            team=team,
            calendar=self.teams.calendar(team or order.assigned_team),
        )
        self.store.save_move(
            moved, to_message(event), expected_status=order.status, expected_version=order.version
        )
        metrics.ORDER_TRANSITIONS.labels(str(order.status), str(moved.status)).inc()
        return moved, event

    def current(
        self, order_id: str, *, status: str, version: int, stored: Order | None = None
    ) -> Order | None:
        """The order if it is still where the event left it; ``None`` if it has moved on
        (the event is stale or a duplicate and must be skipped, not applied again).
        ``stored``: the order as just read (a worker's verified order), not read again."""
        fresh = stored is not None and stored.id == order_id
        order = stored if fresh else self.store.get(order_id)
        if order.status != status or order.version != version:
            log.info(
                "skipping stale event for order %s: event says %s v%s, order is %s v%s",
                order_id,
                status,
                version,
                order.status,
                order.version,
            )
            return None
        return order
