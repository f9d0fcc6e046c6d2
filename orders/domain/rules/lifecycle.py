"""An order's way through the workflow: creation, status moves, corrections, change of team.

Each returns the changed order and the event to publish; nothing is stored here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import ValidationError
from ..model import (
    Actor,
    EventType,
    MaintenanceRef,
    Order,
    OrderEvent,
    PlaceRef,
    Priority,
    new_event_id,
)
from ..sla import ALWAYS, BusinessCalendar
from ..workflow import (
    INITIAL_STATUS,
    PAUSED_STATUSES,
    REASON_REQUIRED,
    TERMINAL_STATUSES,
    Status,
    check_move,
)
from .changes import STAFFED, _changed, _require_staff, _with_order
from .validation import OrderInput, clean_reason, validate_input


def create_order(
    data: OrderInput,
    *,
    order_id: str,
    integrator: str,
    actor: Actor,
    now: datetime,
    site_ref: PlaceRef | None = None,
    asset_ref: PlaceRef | None = None,
    maintenance: MaintenanceRef | None = None,
) -> tuple[Order, OrderEvent]:
    """A new order in the initial status at version 1, and the event that says so.

    ``site_ref`` and ``asset_ref``: the integrator's site and asset the order is at, already
    checked to be the integrator's and in use (``orders.services.ports.PlaceDirectory``); an
    order at a site needs no free-text ``site``, which then is the site's name.
    ``maintenance``: the plan occurrence that created the order."""
    if asset_ref is not None and site_ref is None:
        raise ValueError("an order at an asset is at the asset's site too: give site_ref")
    valid = validate_input(data, site_default=site_ref.name if site_ref else None)
    order = Order(
        id=order_id,
        integrator=integrator,
        title=valid.title,
        category=valid.category,
        priority=Priority(valid.priority),
        site=valid.site,
        status=INITIAL_STATUS,
        version=1,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        external_reference=valid.external_reference,
        description=valid.description,
        contact=valid.contact,
        requested_window=valid.requested_window,
        metadata=valid.metadata,
        site_ref=site_ref,
        asset_ref=asset_ref,
        maintenance=maintenance,
    )
    event = OrderEvent(
        id=new_event_id(),
        type=EventType.CREATED,
        order=order,
        from_status=None,
        to_status=order.status,
        actor=actor,
        reason=None,
        occurred_at=now,
    )
    order = order.replace(history=(event.history_entry,))
    return order, _with_order(event, order)


def move(
    order: Order,
    to: str,
    *,
    actor: Actor,
    now: datetime,
    reason: str | None = None,
    team: str | None = None,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent]:
    """Apply one workflow move: check it, set what the target status implies, bump the version."""
    target = Status(to) if to in Status.__members__.values() else None
    if target is None:
        raise ValidationError({"to": [f"{to!r} is not a status."]})
    check_move(order.status, target, actor.kind)
    reason = clean_reason(reason)
    if target in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": [f"A reason is required to move an order to {target}."]})
    if order.status in PAUSED_STATUSES and target is not Status.CANCELLED:
        held = order.hold
        back_to = held.from_status if held is not None else None
        if back_to is not None and target is not back_to:
            raise ValidationError(
                {"to": [f"An order on hold resumes to the status it was held from ({back_to})."]}
            )

    changes: dict[str, Any] = {}
    if target is Status.SCHEDULED and order.status not in PAUSED_STATUSES:
        if not team:
            raise ValidationError({"team": ["A team is required to schedule an order."]})
        changes["assigned_team"] = team
    elif target is Status.REJECTED:
        changes["rejection_reason"] = reason
    elif target is Status.CANCELLED:
        changes["cancellation_reason"] = reason
    elif target is Status.IN_PROGRESS and order.started_at is None:
        changes["started_at"] = now
    elif target is Status.COMPLETED:
        visit = order.visit
        if visit is not None and visit.open:
            raise ValidationError(
                {
                    "to": [
                        "The technician has not checked out of the visit yet; check out "
                        "before completing the order."
                    ]
                }
            )
        changes["completed_at"] = now
    return _changed(
        order,
        changes,
        status=target,
        event_type=EventType.STATUS_CHANGED,
        actor=actor,
        now=now,
        reason=reason,
        calendar=calendar,
    )


#: What staff may correct on an open order. The category is not among them (it decided the
#: team), nor the external reference (it identifies the order to its integrator).
EDITABLE = ("title", "description", "site", "priority", "contact", "requested_window", "metadata")


def edit(
    order: Order,
    changes: dict[str, Any],
    *,
    actor: Actor,
    now: datetime,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent]:
    """Correct an open order's details: validated like a new order, version bumped, the
    changed fields named in the history entry."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    if order.status in TERMINAL_STATUSES:
        raise ValidationError({"status": [f"A {order.status} order can no longer be changed."]})
    current = {name: getattr(order, name) for name in EDITABLE}
    changed = sorted(name for name, value in changes.items() if current[name] != value)
    if not changed:
        raise ValidationError({"body": ["Nothing to change."]})
    valid = validate_input(
        OrderInput(
            category=order.category,
            external_reference=order.external_reference,
            **{**current, **changes},
        ),
        site_default=order.site_ref.name if order.site_ref else None,
    )
    updates = {name: getattr(valid, name) for name in EDITABLE}
    return _changed(
        order,
        updates,
        status=order.status,
        event_type=EventType.UPDATED,
        actor=actor,
        now=now,
        reason="changed " + ", ".join(changed),
        calendar=calendar,
    )


def reassign(
    order: Order,
    team: str,
    *,
    actor: Actor,
    now: datetime,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent]:
    """Give a scheduled, started or held order to another team (capacity is the service's
    job). Its technician is a member of the old team, so the order leaves them too."""
    if order.status not in STAFFED:
        raise ValidationError(
            {"team": [f"A {order.status} order has no team to change (scheduled or started only)."]}
        )
    if team == order.assigned_team:
        raise ValidationError({"team": [f"The order is already with {team}."]})
    _require_staff(actor, "team")
    visit = order.visit
    if visit is not None and visit.checked_in_at is not None and visit.open:
        raise ValidationError(
            {"team": ["The technician is on site (checked in): check out before changing team."]}
        )
    changes: dict[str, Any] = {"assigned_team": team, "technician": None}
    if visit is not None and visit.open:
        changes["visits"] = order.visits[:-1]  # the booked visit was the old team's
    return _changed(
        order,
        changes,
        status=order.status,
        event_type=EventType.UPDATED,
        actor=actor,
        now=now,
        reason=f"assigned to team {team} (was {order.assigned_team})",
        calendar=calendar,
    )
