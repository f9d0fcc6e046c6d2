"""Field work: a technician of the order's team assigned, the visit booked or moved, and the
technician's arrival and departure. Staff do these from the admin."""

from __future__ import annotations

from orders.domain import rules
from orders.domain.errors import PermissionDenied, ValidationError
from orders.domain.model import Actor, Order, TimeWindow
from orders.domain.workflow import ActorKind

from .changes import OrderChanges


class FieldWork:
    def __init__(self, changes: OrderChanges):
        self._changes = changes

    def _order(self, order_id: str, expected_version: int | None) -> Order:
        return self._changes.for_change(
            order_id, integrator=None, expected_version=expected_version
        )

    def assign_technician(
        self,
        *,
        order_id: str,
        technician_id: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Order:
        """Give the order to an active member of its team."""
        order = self._order(order_id, expected_version)
        if actor.kind is not ActorKind.STAFF:
            raise PermissionDenied("Only staff may assign a technician.")
        technician = (
            self._changes.teams.technician(order.assigned_team, technician_id)
            if order.assigned_team
            else None
        )
        if technician is None:
            raise ValidationError(
                {
                    "technician": [
                        f"{technician_id!r} is not an active member of team "
                        f"{order.assigned_team or '(none yet)'}."
                    ]
                }
            )
        changed, event = rules.assign_technician(
            order,
            technician,
            actor=actor,
            now=self._changes.clock(),
            calendar=self._changes.calendar(order),
        )
        return self._changes.save(order, changed, event)

    def schedule_visit(
        self,
        *,
        order_id: str,
        window: TimeWindow,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Order:
        """Book the technician's visit (``order.visit_scheduled``)."""
        order = self._order(order_id, expected_version)
        changed, event = rules.schedule_visit(
            order,
            window,
            actor=actor,
            now=self._changes.clock(),
            calendar=self._changes.calendar(order),
        )
        return self._changes.save(order, changed, event)

    def reschedule_visit(
        self,
        *,
        order_id: str,
        window: TimeWindow,
        actor: Actor,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Order:
        """Move the booked visit (``order.visit_rescheduled``)."""
        order = self._order(order_id, expected_version)
        changed, event = rules.reschedule_visit(
            order,
            window,
            actor=actor,
            now=self._changes.clock(),
            reason=reason,
            calendar=self._changes.calendar(order),
        )
        return self._changes.save(order, changed, event)

    def plan_visit(
        self,
        *,
        order_id: str,
        window: TimeWindow,
        actor: Actor,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Order, bool]:
        """Book the visit, or move the booked one (the order, and whether it was moved)."""
        order = self._order(order_id, expected_version)
        booked = order.visit is not None and order.visit.open
        now, calendar = self._changes.clock(), self._changes.calendar(order)
        if booked:
            changed, event = rules.reschedule_visit(
                order, window, actor=actor, now=now, reason=reason, calendar=calendar
            )
        else:
            changed, event = rules.schedule_visit(
                order, window, actor=actor, now=now, calendar=calendar
            )
        return self._changes.save(order, changed, event), booked

    def check_in(
        self, *, order_id: str, actor: Actor, expected_version: int | None = None
    ) -> Order:
        """The technician arrived: a scheduled order starts (``order.visit_checked_in``)."""
        order = self._order(order_id, expected_version)
        changed, event = rules.check_in(
            order, actor=actor, now=self._changes.clock(), calendar=self._changes.calendar(order)
        )
        return self._changes.save(order, changed, event)

    def check_out(
        self, *, order_id: str, actor: Actor, expected_version: int | None = None
    ) -> Order:
        """The technician left (``order.visit_checked_out``)."""
        order = self._order(order_id, expected_version)
        changed, event = rules.check_out(
            order, actor=actor, now=self._changes.clock(), calendar=self._changes.calendar(order)
        )
        return self._changes.save(order, changed, event)
