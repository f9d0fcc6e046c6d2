"""One change of an order, the step every rule that changes an order ends with.

:func:`_changed` bumps the version, appends the history entry, recomputes the SLA fields
(:func:`with_sla`) and builds the event, so every kind of change is recorded the same way.
Also here, because moves, notes and field work all rely on them: who may make staff-only
changes, and the statuses in which an order has a team (:data:`STAFFED`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from ..errors import PermissionDenied
from ..model import Actor, Attachment, EventType, Note, Order, OrderEvent, Visit, new_event_id
from ..sla import ALWAYS, BusinessCalendar, sla_clock
from ..workflow import ActorKind, Status

#: Statuses in which an order has a team, and so can change team or technician.
STAFFED = (Status.SCHEDULED, Status.IN_PROGRESS, Status.ON_HOLD)


def with_sla(order: Order, *, now: datetime, calendar: BusinessCalendar = ALWAYS) -> Order:
    """``order`` with its stored SLA fields brought up to date from its history: the due time
    while the clock runs (none while it is paused, so due-soon listings leave held orders out)
    and, once completed, whether the SLA was met."""
    clock = sla_clock(order, now=now, calendar=calendar)
    if clock is None:
        return order.replace(sla_due_at=None)
    # The clock's own rule (no due time while paused): stored and computed always agree.
    changes: dict[str, Any] = {"sla_due_at": clock.due_at}
    if order.status is Status.COMPLETED:
        changes["sla_met"] = not clock.breached
    return order.replace(**changes)


def _changed(
    order: Order,
    updates: dict[str, Any],
    *,
    status: Status,
    event_type: EventType,
    actor: Actor,
    now: datetime,
    reason: str | None,
    calendar: BusinessCalendar,
    subject: Note | Attachment | Visit | None = None,
) -> tuple[Order, OrderEvent]:
    """One change of the order: version bumped, a history entry saying what happened, the
    SLA fields recomputed from the new history, and the event with the order as it is now."""
    changed = order.replace(version=order.version + 1, updated_at=now, **updates)
    if status is not order.status:
        changed = changed.replace(status=status, status_changed_at=now)
    event = OrderEvent(
        id=new_event_id(),
        type=event_type,
        order=changed,
        from_status=order.status,
        to_status=status,
        actor=actor,
        reason=reason,
        occurred_at=now,
        subject=subject,
    )
    changed = changed.replace(history=(*order.history, event.history_entry))
    changed = with_sla(changed, now=now, calendar=calendar)
    return changed, _with_order(event, changed)


def _with_order(event: OrderEvent, order: Order) -> OrderEvent:
    """``event`` carrying ``order`` as stored, with the history entry of the event itself."""
    return dataclasses.replace(event, order=order)


def _require_staff(actor: Actor, field_name: str) -> None:
    """Refuse anyone but staff: teams, technicians and visits are the back office's."""
    if actor.kind is not ActorKind.STAFF:
        raise PermissionDenied(f"Only staff may change the {field_name} of an order.")
