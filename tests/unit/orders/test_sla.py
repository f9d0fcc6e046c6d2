"""The SLA clock: working hours, holds that stop it, and breaches."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from orders.domain import rules
from orders.domain.model import Actor, TechnicianRef, TimeWindow
from orders.domain.rules import OrderInput
from orders.domain.sla import ALWAYS, BusinessCalendar, parse_calendar, sla_clock

SYSTEM = Actor.system("worker:test")
STAFF = Actor.staff("alice")
# A Monday.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WEEKDAYS = BusinessCalendar(timezone="UTC", days=frozenset(range(5)), start=time(9), end=time(17))


def scheduled_order(priority: str = "high", created: datetime = T0, calendar=ALWAYS):
    order, _ = rules.create_order(
        OrderInput(title="Fix", category="hvac", site="Depot", priority=priority),
        order_id="o-1",
        integrator="acme",
        actor=Actor.integrator("acme"),
        now=created,
    )
    order, _ = rules.move(order, "accepted", actor=SYSTEM, now=created, calendar=calendar)
    order, _ = rules.move(
        order, "scheduled", actor=SYSTEM, now=created, team="crew", calendar=calendar
    )
    return order


def test_always_open_counts_wall_time():
    assert ALWAYS.working_time(T0, T0 + timedelta(hours=5)) == timedelta(hours=5)
    assert ALWAYS.advance(T0, timedelta(hours=3)) == T0 + timedelta(hours=3)


def test_working_hours_skip_nights_and_weekends():
    friday_4pm = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    assert WEEKDAYS.advance(friday_4pm, timedelta(hours=2)) == datetime(
        2026, 3, 9, 10, 0, tzinfo=UTC
    )
    assert WEEKDAYS.working_time(friday_4pm, datetime(2026, 3, 9, 10, 0, tzinfo=UTC)) == (
        timedelta(hours=2)
    )
    assert (
        WEEKDAYS.working_time(
            datetime(2026, 3, 7, 0, 0, tzinfo=UTC), datetime(2026, 3, 8, 23, 0, tzinfo=UTC)
        )
        == timedelta()
    )


def test_a_day_when_clocks_change_has_its_local_working_hours():
    madrid = BusinessCalendar(timezone="Europe/Madrid", start=time(8), end=time(18))
    # Clocks went forward on 2026-03-29: 08:00 local is 06:00 UTC from that day on.
    day = datetime(2026, 3, 29, 0, 0, tzinfo=ZoneInfo("Europe/Madrid"))
    assert madrid.advance(day, timedelta(minutes=1)) == datetime(2026, 3, 29, 6, 1, tzinfo=UTC)
    assert madrid.working_time(day, day + timedelta(days=1)) == timedelta(hours=10)


def test_hours_until_midnight_end_at_the_next_local_day():
    evenings = parse_calendar("sat,sun 20:00-24:00 Europe/Madrid")
    madrid = ZoneInfo("Europe/Madrid")
    saturday = datetime(2026, 3, 7, 0, 0, tzinfo=madrid)
    assert evenings.working_time(saturday, saturday + timedelta(days=1)) == timedelta(hours=4)
    # 23:00 on Saturday plus two working hours: one left that night, one on Sunday evening.
    late = datetime(2026, 3, 7, 23, 0, tzinfo=madrid)
    assert evenings.advance(late, timedelta(hours=2)) == datetime(2026, 3, 8, 21, 0, tzinfo=madrid)
    assert evenings.describe() == "sat,sun 20:00-24:00 Europe/Madrid"


def test_a_day_when_clocks_go_back_still_has_its_local_working_hours():
    madrid = BusinessCalendar(timezone="Europe/Madrid", start=time(8), end=time(18))
    # Clocks went back on 2026-10-25: 08:00 local is 07:00 UTC from that day on.
    day = datetime(2026, 10, 25, 0, 0, tzinfo=ZoneInfo("Europe/Madrid"))
    assert madrid.advance(day, timedelta(minutes=1)) == datetime(2026, 10, 25, 7, 1, tzinfo=UTC)
    # The 25-hour day still has ten working hours.
    assert madrid.working_time(day, datetime(2026, 10, 26, 0, 0, tzinfo=UTC)) == timedelta(hours=10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24/7", ALWAYS),
        ("", ALWAYS),
        ("mon-fri 09:00-17:00", WEEKDAYS),
        (
            "sat,sun 10:00-24:00 Europe/Madrid",
            BusinessCalendar("Europe/Madrid", frozenset({5, 6}), time(10), None),
        ),
        (
            "fri-mon 08:00-12:00",
            BusinessCalendar("UTC", frozenset({4, 5, 6, 0}), time(8), time(12)),
        ),
    ],
)
def test_calendars_are_read_from_their_short_form(text, expected):
    assert parse_calendar(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "weekdays",
        "mon-fri",
        "mon-fri 9-5",
        "xyz 09:00-17:00",
        "mon 17:00-09:00",
        "mon 09:00-10:00 Mars/Olympus",
    ],
)
def test_a_calendar_that_makes_no_sense_is_refused(text):
    with pytest.raises(ValueError):
        parse_calendar(text)


def test_a_hold_moves_the_due_time_by_the_time_held():
    order = scheduled_order()
    due = order.sla_due_at
    assert due == T0 + timedelta(hours=24)
    held, _ = rules.move(order, "on_hold", actor=STAFF, now=T0 + timedelta(hours=1), reason="parts")
    assert held.sla_due_at is None  # left out of due-soon listings while it is stopped
    clock = sla_clock(held, now=T0 + timedelta(hours=2))
    assert clock.paused_now and not clock.running
    assert clock.used == timedelta(hours=1)
    assert clock.due_at is None  # like the stored sla_due_at: no due time while held
    resumed, _ = rules.move(held, "scheduled", actor=STAFF, now=T0 + timedelta(hours=3))
    assert resumed.sla_due_at == due + timedelta(hours=2)
    clock = sla_clock(resumed, now=T0 + timedelta(hours=4))
    assert clock.paused == timedelta(hours=2)
    assert clock.used == timedelta(hours=2)
    assert clock.due_at == due + timedelta(hours=2)


def test_the_due_time_counts_only_working_hours():
    order = scheduled_order(priority="urgent", calendar=WEEKDAYS)  # 4 working hours
    assert order.sla_due_at == T0 + timedelta(hours=4)  # Monday 10:00 -> 14:00
    late = scheduled_order(
        priority="urgent", created=datetime(2026, 3, 6, 15, 0, tzinfo=UTC), calendar=WEEKDAYS
    )
    assert late.sla_due_at == datetime(2026, 3, 9, 11, 0, tzinfo=UTC)  # Friday 15:00 + 4h


def test_a_late_completion_is_breached_and_the_sla_not_met():
    order = scheduled_order(priority="urgent")
    started, _ = rules.move(order, "in_progress", actor=STAFF, now=T0 + timedelta(hours=1))
    done, _ = rules.move(started, "completed", actor=STAFF, now=T0 + timedelta(hours=5))
    assert done.sla_met is False
    clock = sla_clock(done, now=T0 + timedelta(days=3))
    assert clock.breached and clock.due_at == T0 + timedelta(hours=4)
    assert clock.used == timedelta(hours=5)  # stopped at completion


def test_an_open_order_past_its_budget_is_breached_while_it_runs():
    order = scheduled_order(priority="urgent")  # 4 hours
    on_time = sla_clock(order, now=T0 + timedelta(hours=3))
    assert not on_time.breached and on_time.remaining == timedelta(hours=1)
    late = sla_clock(order, now=T0 + timedelta(hours=6))
    assert late.breached and late.running and late.remaining == timedelta()
    assert late.due_at == T0 + timedelta(hours=4)


def test_a_hold_can_save_the_sla():
    order = scheduled_order(priority="urgent")
    held, _ = rules.move(order, "on_hold", actor=STAFF, now=T0 + timedelta(hours=1), reason="x")
    back, _ = rules.move(held, "scheduled", actor=STAFF, now=T0 + timedelta(hours=3))
    started, _ = rules.move(back, "in_progress", actor=STAFF, now=T0 + timedelta(hours=3))
    done, _ = rules.move(started, "completed", actor=STAFF, now=T0 + timedelta(hours=5))
    assert done.sla_met is True


def test_an_order_not_yet_reviewed_has_no_clock():
    order, _ = rules.create_order(
        OrderInput(title="Fix", category="hvac", site="Depot"),
        order_id="o-2",
        integrator="acme",
        actor=Actor.integrator("acme"),
        now=T0,
    )
    assert sla_clock(order, now=T0) is None


def test_visits_do_not_change_the_clock():
    order = scheduled_order()
    given, _ = rules.assign_technician(
        order, TechnicianRef("ana", "Ana"), actor=STAFF, now=T0 + timedelta(minutes=5)
    )
    window = TimeWindow(T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    visited, _ = rules.schedule_visit(given, window, actor=STAFF, now=T0 + timedelta(minutes=6))
    assert visited.sla_due_at == order.sla_due_at


# -- one due time: the clock's and the stored sla_due_at agree in every status ------------------


def test_a_held_order_has_no_due_time_and_its_remaining_time_stands_still():
    order = scheduled_order(priority="urgent")  # 4 hours
    held, _ = rules.move(order, "on_hold", actor=STAFF, now=T0 + timedelta(hours=1), reason="x")
    soon, later = (sla_clock(held, now=T0 + timedelta(hours=h)) for h in (2, 30))
    for clock in (soon, later):
        assert clock.due_at is None and held.sla_due_at is None
        assert clock.paused_now and not clock.breached
        assert clock.remaining == timedelta(hours=3)
    assert later.paused == timedelta(hours=29)


def test_a_breached_order_put_on_hold_has_no_due_time_until_it_resumes():
    order = scheduled_order(priority="urgent")  # due at T0 + 4 h
    held, _ = rules.move(order, "on_hold", actor=STAFF, now=T0 + timedelta(hours=6), reason="x")
    clock = sla_clock(held, now=T0 + timedelta(hours=8))
    assert clock.breached and clock.paused_now and clock.remaining == timedelta()
    assert clock.due_at is None and held.sla_due_at is None
    resumed, _ = rules.move(held, "scheduled", actor=STAFF, now=T0 + timedelta(hours=9))
    clock = sla_clock(resumed, now=T0 + timedelta(hours=10))
    # Back to the moment it was breached, stored and computed alike; the hold did not move it.
    assert clock.due_at == resumed.sla_due_at == T0 + timedelta(hours=4)


def test_a_hold_in_working_hours_has_no_due_time_either():
    order = scheduled_order(priority="urgent", calendar=WEEKDAYS)  # Monday 10:00 -> 14:00
    held, _ = rules.move(
        order, "on_hold", actor=STAFF, now=T0 + timedelta(hours=1), reason="x", calendar=WEEKDAYS
    )
    clock = sla_clock(held, now=T0 + timedelta(days=2), calendar=WEEKDAYS)
    assert clock.due_at is None and clock.remaining == timedelta(hours=3)
    resumed, _ = rules.move(
        held, "scheduled", actor=STAFF, now=T0 + timedelta(days=2), calendar=WEEKDAYS
    )
    # Wednesday 10:00 plus the three working hours left.
    assert resumed.sla_due_at == T0 + timedelta(days=2, hours=3)
    assert sla_clock(resumed, now=T0 + timedelta(days=2), calendar=WEEKDAYS).due_at == (
        resumed.sla_due_at
    )


def _walk(priority: str, steps: list[tuple[str, float]]):
    """The order after each move of ``steps`` ((status, hours after T0)), from scheduled."""
    order = scheduled_order(priority=priority)
    yield order
    for status, hours in steps:
        reason = "x" if status in ("on_hold", "cancelled") else None
        order, _ = rules.move(
            order, status, actor=STAFF, now=T0 + timedelta(hours=hours), reason=reason
        )
        yield order


@pytest.mark.parametrize(
    ("priority", "steps"),
    [
        # held and resumed in time, then completed
        ("high", [("on_hold", 1), ("scheduled", 3), ("in_progress", 4), ("completed", 5)]),
        # breached while running, held, resumed, held again, cancelled while held
        (
            "urgent",
            [
                ("in_progress", 1),
                ("on_hold", 6),
                ("in_progress", 7),
                ("on_hold", 8),
                ("cancelled", 9),
            ],
        ),
        # held for longer than the budget (a held clock never breaches), then late
        ("urgent", [("on_hold", 1), ("scheduled", 30), ("in_progress", 31), ("completed", 40)]),
    ],
)
def test_the_stored_due_time_is_the_clocks_in_every_status(priority, steps):
    """What integrators get as ``sla_due_at`` (order, events) and as ``sla.due_at`` (the API's
    clock) is one value: at each change, and read again any time later."""
    for order in _walk(priority, steps):
        for later in (timedelta(), timedelta(minutes=30), timedelta(days=3)):
            clock = sla_clock(order, now=order.updated_at + later)
            assert clock.due_at == order.sla_due_at, (order.status, later)
