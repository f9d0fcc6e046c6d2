"""The staff list's sorts (SLA due, created, priority) over the in-memory repository, and the
check-in that is far from its booked window."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from orders.domain.model import TechnicianRef, Visit
from orders.domain.rules import CHECK_IN_SLACK, check_in_far_from_window
from orders.domain.sla import ALWAYS
from orders.selectors import OrderSelector
from tests.unit.orders.services_world import World


@pytest.fixture
def world() -> World:
    return World()


def selector(world: World) -> OrderSelector:
    return OrderSelector(orders=world.repo, calendar=lambda team: ALWAYS, clock=world.clock)


def test_sorting_by_sla_due_puts_the_soonest_first_and_orders_without_one_last(world):
    low = world.scheduled(priority="low")
    urgent = world.scheduled(priority="urgent")
    waiting = world.create(priority="urgent")  # not reviewed: no SLA yet
    high = world.scheduled(priority="high")

    found = selector(world).sorted_orders(sort="sla")

    assert [o.id for o in found.items] == [urgent.id, high.id, low.id, waiting.id]
    assert not found.capped
    latest = selector(world).sorted_orders(sort="-sla")
    assert [o.id for o in latest.items][:3] == [low.id, high.id, urgent.id]


def created(world: World, **fields):
    world.clock.advance(timedelta(minutes=1))
    return world.create(**fields)


def ids(world: World, sort: str) -> list[str]:
    return [o.id for o in selector(world).sorted_orders(sort=sort).items]


def test_sorting_by_priority_and_by_age(world):
    normal = created(world, priority="normal")
    urgent = created(world, priority="urgent")
    low = created(world, priority="low")

    assert ids(world, "priority") == [urgent.id, normal.id, low.id]
    assert ids(world, "-priority") == [low.id, normal.id, urgent.id]
    assert ids(world, "-created") == [normal.id, urgent.id, low.id]
    assert ids(world, "created") == [low.id, urgent.id, normal.id]


def test_a_sort_covers_the_newest_orders_up_to_its_cap_and_says_so(world):
    made = [created(world, priority="low") for _ in range(5)]

    found = selector(world).sorted_orders(sort="priority", cap=3)

    assert found.capped and len(found.items) == 3
    assert {o.id for o in found.items} == {o.id for o in made[-3:]}  # the newest three


def booked(order, start, *, checked_in=None):
    visit = Visit(
        id="v1",
        start=start,
        end=start + timedelta(hours=2),
        technician=TechnicianRef(id="ana", name="Ana"),
        scheduled_at=start - timedelta(days=1),
        checked_in_at=checked_in,
    )
    return dataclasses.replace(order, visits=(visit,))


def test_a_check_in_far_from_the_booked_window_is_flagged(world):
    order = world.scheduled()
    now = world.clock.now
    assert not check_in_far_from_window(order, now=now)  # no visit: nothing to ask

    for start, far in [
        (now + timedelta(minutes=30), False),  # arriving a little early
        (now - timedelta(hours=3), False),  # within the window (two hours) and its slack
        (now + CHECK_IN_SLACK + timedelta(minutes=1), True),  # hours before it begins
        (now + timedelta(days=2), True),
        (now - timedelta(hours=2) - CHECK_IN_SLACK - timedelta(minutes=1), True),  # long over
    ]:
        assert check_in_far_from_window(booked(order, start), now=now) is far, start - now
    checked_in = booked(order, now + timedelta(days=2), checked_in=now)
    assert not check_in_far_from_window(checked_in, now=now)  # nothing left to check in
