"""Field work: the technician an order is with, the visit booked, check-in and check-out.

An order has at most one open visit (the last of ``order.visits``); :func:`open_work` and
:func:`check_in_far_from_window` tell pages what to offer without trying the rules first.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from ..errors import ValidationError
from ..model import Actor, EventType, Order, OrderEvent, TechnicianRef, TimeWindow, Visit, new_id
from ..sla import ALWAYS, BusinessCalendar
from ..workflow import PAUSED_STATUSES, TERMINAL_STATUSES, Status, check_move
from .changes import STAFFED, _changed, _require_staff
from .validation import clean_reason

#: The longest visit window that can be booked.
VISIT_MAX = timedelta(hours=24)


def assign_technician(
    order: Order,
    technician: TechnicianRef,
    *,
    actor: Actor,
    now: datetime,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent]:
    """Give the order to a member of its team (that it is one is the service's check)."""
    _require_staff(actor, "technician")
    if order.status not in STAFFED:
        raise ValidationError(
            {"technician": [f"A {order.status} order cannot be given to a technician."]}
        )
    if order.technician is not None and order.technician.id == technician.id:
        raise ValidationError({"technician": [f"The order is already with {technician.name}."]})
    visit = order.visit
    if visit is not None and visit.checked_in_at is not None and visit.open:
        raise ValidationError(
            {"technician": ["The technician is on site (checked in): check out first."]}
        )
    changes: dict[str, Any] = {"technician": technician}
    if visit is not None and visit.open:
        # The booked visit goes with the order to its new technician.
        changes["visits"] = (*order.visits[:-1], dataclasses.replace(visit, technician=technician))
    was = f" (was {order.technician.name})" if order.technician else ""
    return _changed(
        order,
        changes,
        status=order.status,
        event_type=EventType.UPDATED,
        actor=actor,
        now=now,
        reason=f"assigned to technician {technician.name}{was}",
        calendar=calendar,
    )


def check_window(window: Any, *, now: datetime) -> TimeWindow:
    """A visit's window, refused unless it has time zones, a positive length of at most
    :data:`VISIT_MAX`, and has not ended (a booking in the past sends no one)."""
    if not isinstance(window, TimeWindow):
        raise ValidationError({"window": ["Give the visit's start and end."]})
    if window.start.tzinfo is None or window.end.tzinfo is None:
        raise ValidationError({"window": ["Times must include a time zone offset."]})
    if window.end <= window.start:
        raise ValidationError({"window.end": ["Must be after the start."]})
    if window.end - window.start > VISIT_MAX:
        raise ValidationError(
            {
                "window.end": [
                    f"A visit lasts at most {int(VISIT_MAX.total_seconds() // 3600)} hours."
                ]
            }
        )
    if window.end <= now:
        raise ValidationError({"window.end": ["The window has already ended."]})
    return window


def schedule_visit(
    order: Order,
    window: TimeWindow,
    *,
    actor: Actor,
    now: datetime,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent]:
    """Book a visit by the order's technician (``order.visit_scheduled``); an order has one
    visit open at a time: a later one is booked once the last was checked out."""
    _require_staff(actor, "visit")
    if order.status not in STAFFED:
        raise ValidationError({"window": [f"A {order.status} order cannot be visited."]})
    if order.technician is None:
        raise ValidationError({"technician": ["Assign a technician before booking a visit."]})
    if order.visit is not None and order.visit.open:
        raise ValidationError(
            {"window": ["A visit is already booked: reschedule it, or check out first."]}
        )
    window = check_window(window, now=now)
    visit = Visit(
        id=new_id(),
        start=window.start,
        end=window.end,
        technician=order.technician,
        scheduled_at=now,
    )
    return _changed(
        order,
        {"visits": (*order.visits, visit)},
        status=order.status,
        event_type=EventType.VISIT_SCHEDULED,
        actor=actor,
        now=now,
        reason=None,
        calendar=calendar,
        subject=visit,
    )


def reschedule_visit(
    order: Order,
    window: TimeWindow,
    *,
    actor: Actor,
    now: datetime,
    reason: Any = None,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent]:
    """Move the booked visit's window (``order.visit_rescheduled``), before check-in only."""
    _require_staff(actor, "visit")
    visit = _open_visit(order, "window")
    if visit.checked_in_at is not None:
        raise ValidationError({"window": ["The technician has checked in: the visit has begun."]})
    if order.status in TERMINAL_STATUSES:
        raise ValidationError({"window": [f"A {order.status} order cannot be visited."]})
    window = check_window(window, now=now)
    if (window.start, window.end) == (visit.start, visit.end):
        raise ValidationError({"window": ["The visit already has this window."]})
    moved = dataclasses.replace(
        visit, start=window.start, end=window.end, reschedules=visit.reschedules + 1
    )
    return _visit_changed(
        order,
        moved,
        EventType.VISIT_RESCHEDULED,
        actor=actor,
        now=now,
        calendar=calendar,
        reason=clean_reason(reason),
    )


def check_in(
    order: Order, *, actor: Actor, now: datetime, calendar: BusinessCalendar = ALWAYS
) -> tuple[Order, OrderEvent]:
    """The technician arrived (``order.visit_checked_in``): a scheduled order starts."""
    _require_staff(actor, "visit")
    visit = _open_visit(order, "visit")
    if visit.checked_in_at is not None:
        raise ValidationError({"visit": ["The technician has already checked in."]})
    if order.status not in (Status.SCHEDULED, Status.IN_PROGRESS):
        raise ValidationError(
            {"visit": [f"A {order.status} order cannot be checked in to (resume it first)."]}
        )
    status, started = order.status, {}
    if status is Status.SCHEDULED:
        check_move(status, Status.IN_PROGRESS, actor.kind)
        status, started = Status.IN_PROGRESS, {"started_at": order.started_at or now}
    return _visit_changed(
        order,
        dataclasses.replace(visit, checked_in_at=now),
        EventType.VISIT_CHECKED_IN,
        actor=actor,
        now=now,
        calendar=calendar,
        status=status,
        **started,
    )


def check_out(
    order: Order, *, actor: Actor, now: datetime, calendar: BusinessCalendar = ALWAYS
) -> tuple[Order, OrderEvent]:
    """The technician left (``order.visit_checked_out``); the order can then be completed."""
    _require_staff(actor, "visit")
    visit = _open_visit(order, "visit")
    if visit.checked_in_at is None:
        raise ValidationError({"visit": ["The technician has not checked in yet."]})
    return _visit_changed(
        order,
        dataclasses.replace(visit, checked_out_at=now),
        EventType.VISIT_CHECKED_OUT,
        actor=actor,
        now=now,
        calendar=calendar,
    )


def _visit_changed(
    order: Order,
    visit: Visit,
    event_type: EventType,
    *,
    actor: Actor,
    now: datetime,
    calendar: BusinessCalendar,
    status: Status | None = None,
    reason: str | None = None,
    **changes: Any,
) -> tuple[Order, OrderEvent]:
    """The change of the order's latest visit to ``visit``, announced as ``event_type``."""
    return _changed(
        order,
        {"visits": (*order.visits[:-1], visit), **changes},
        status=status or order.status,
        event_type=event_type,
        actor=actor,
        now=now,
        reason=reason,
        calendar=calendar,
        subject=visit,
    )


def open_work(order: Order) -> frozenset[str]:
    """The work staff may do on the order now (what these rules and ``move`` would accept):
    ``hold``, ``resume``, ``technician``, ``visit``, ``check_in``, ``check_out``. Pages offer
    these."""
    visit = order.visit
    booked = visit is not None and visit.open
    started = booked and visit.checked_in_at is not None
    work: set[str] = set()
    if order.status in (Status.SCHEDULED, Status.IN_PROGRESS):
        work.add("hold")
        if booked and not started:
            work.add("check_in")
    if order.status in PAUSED_STATUSES:
        work.add("resume")
    if order.status in STAFFED and not started:
        work.add("technician")
        if order.technician is not None:
            work.add("visit")
    if started:
        work.add("check_out")
    return frozenset(work)


#: How far from its booked window a check-in is unusual enough to ask "are you sure?" first.
CHECK_IN_SLACK = timedelta(hours=2)


def check_in_far_from_window(order: Order, *, now: datetime) -> bool:
    """Checking in now would be well before or after the booked window (the wrong order, or
    a visit nobody moved): pages ask before they record it. The rules still allow it."""
    visit = order.visit
    if visit is None or not visit.open or visit.checked_in_at is not None:
        return False
    return now < visit.start - CHECK_IN_SLACK or now > visit.end + CHECK_IN_SLACK


def _open_visit(order: Order, field_name: str) -> Visit:
    """The visit booked and not checked out of, which is the only one that can change."""
    visit = order.visit
    if visit is None or not visit.open:
        raise ValidationError({field_name: ["The order has no visit booked."]})
    return visit
