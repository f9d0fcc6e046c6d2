"""The status workers' pipeline over the in-memory world: verify the event against the stored
order, run the status's step, tell the integrator — once per delivery, whatever is repeated."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orders.domain.errors import OrderNotFound
from orders.domain.workflow import STATUSES, Status
from orders.events.contract import EventMismatch, parse_event
from orders.services.pipeline import STEPS
from tests.unit.orders.services_world import World


def last_event(world: World):
    return parse_event(world.published[-1].body)


def test_every_status_of_the_workflow_has_a_step():
    assert set(STEPS) == set(STATUSES)


def test_a_received_event_is_reviewed_and_its_integrator_told():
    world = World()
    order = world.create()
    world.clock.advance(timedelta(minutes=1))
    received = last_event(world)

    world.service.pipeline.handle(received)

    assert world.repo.get(order.id).status is Status.ACCEPTED
    assert [(c[0], c[1], c[2]) for c in world.notifier.calls] == [("acme", order.id, "received")]


def test_the_pipeline_runs_the_order_to_scheduled_one_event_at_a_time():
    world = World()
    order = world.create()
    for _ in range(2):  # received → accepted, accepted → scheduled
        world.service.pipeline.handle(last_event(world))
    scheduled = world.repo.get(order.id)
    assert scheduled.status is Status.SCHEDULED
    assert scheduled.assigned_team in {"north", "south"}


def test_a_repeated_delivery_changes_nothing_more():
    world = World()
    order = world.create()
    received = last_event(world)
    world.service.pipeline.handle(received)
    moved = world.repo.get(order.id)

    world.service.pipeline.handle(received)

    assert world.repo.get(order.id) == moved
    assert world.statuses == ["received", "accepted"]


def test_an_event_no_stored_order_committed_is_refused():
    world = World()
    order = world.create()
    forged = last_event(world)
    other = World()
    other.create(order_id=order.id)  # same id, another history
    with pytest.raises(EventMismatch):
        other.service.pipeline.handle(forged)
    with pytest.raises(OrderNotFound):
        World().service.pipeline.handle(forged)
