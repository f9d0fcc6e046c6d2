"""Teams and their capacity over the in-memory repositories: scheduling, releasing, the line
of waiting orders and staff moving an order to another team."""

from __future__ import annotations

import pytest

from orders.domain.errors import ValidationError
from orders.domain.model import Actor, Order
from orders.domain.workflow import ActorKind, Status
from tests.unit.orders.services_world import (
    ACCEPTED_WORKER,
    INTEGRATOR,
    STAFF,
    World,
)


@pytest.fixture
def world() -> World:
    return World()


# -- schedule ----------------------------------------------------------------------------------


def test_schedule_assigns_the_least_loaded_team_and_reserves_it(world):
    world.loads.reserve("north", "other-order", capacity=2)  # north 50 %, south 0 %
    order = world.accepted()
    moved = world.service.assignment.schedule(
        order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
    )

    assert moved is not None
    assert moved.status is Status.SCHEDULED
    assert moved.assigned_team == "south"
    assert world.held("south") == {order.id}
    assert world.held("north") == {"other-order"}
    assert world.repo.get(order.id) == moved
    assert world.statuses == ["received", "accepted", "scheduled"]


def test_schedule_delivered_twice_is_a_no_op(world):
    order = world.accepted()
    first = world.service.assignment.schedule(
        order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
    )
    second = world.service.assignment.schedule(
        order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
    )

    assert first is not None
    assert second is None
    assert world.repo.get(order.id) == first
    holdings = world.loads.holdings(["north", "south"])
    holders = [team for team, held in holdings.items() if order.id in held]
    assert holders == [first.assigned_team]
    assert world.statuses == ["received", "accepted", "scheduled"]


def test_schedule_leaves_the_order_waiting_when_every_team_is_full(world):
    world.loads.reserve("north", "a", capacity=2)
    world.loads.reserve("north", "b", capacity=2)
    for busy in ("c", "d", "e"):
        world.loads.reserve("south", busy, capacity=3)
    order = world.accepted()

    result = world.service.assignment.schedule(
        order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
    )
    assert result == order
    assert world.repo.get(order.id) == order
    assert order.id not in world.held("north") | world.held("south")
    assert world.statuses == ["received", "accepted"]


def test_schedule_only_considers_teams_serving_the_category():
    world = World(teams={"hvac-team": (1, {"hvac"}), "general-team": (5, {"general"})})
    world.loads.reserve("hvac-team", "busy", capacity=1)
    order = world.accepted()
    result = world.service.assignment.schedule(
        order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
    )
    assert result is not None and result.status is Status.ACCEPTED
    assert world.held("general-team") == frozenset()


def test_schedule_after_a_crash_reuses_the_team_already_reserved(world):
    order = world.accepted()
    # An earlier attempt reserved north (not the least loaded team) and died before saving.
    world.loads.reserve("north", "other-order", capacity=2)
    world.loads.reserve("north", order.id, capacity=2)

    moved = world.service.assignment.schedule(
        order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
    )

    assert moved is not None
    assert moved.assigned_team == "north"
    assert world.held("north") == {"other-order", order.id}
    assert world.held("south") == frozenset()


def test_schedule_of_an_order_cancelled_meanwhile_does_nothing(world):
    order = world.accepted()
    world.service.intake.transition_order(order_id=order.id, to="cancelled", actor=INTEGRATOR)
    again = world.service.assignment.schedule(
        order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
    )
    assert again is None
    assert world.held("north") == world.held("south") == frozenset()


# -- release_team ------------------------------------------------------------------------------


def test_release_team_frees_the_capacity_and_is_idempotent(world):
    order = world.scheduled()
    team = order.assigned_team
    assert world.held(team) == {order.id}

    cancelled = world.service.intake.transition_order(
        order_id=order.id, to="cancelled", actor=STAFF, reason="no longer needed"
    )
    world.service.assignment.release_team(cancelled)
    assert world.held(team) == frozenset()

    world.service.assignment.release_team(cancelled)
    assert world.held(team) == frozenset()


def test_release_team_leaves_other_orders_alone(world):
    world.loads.reserve("south", "other-order", capacity=3)
    order = world.scheduled()
    assert order.assigned_team == "north"
    world.loads.reserve("north", "neighbour", capacity=2)

    world.service.assignment.release_team(order)

    assert world.held("north") == {"neighbour"}
    assert world.held("south") == {"other-order"}


def test_release_team_frees_a_team_no_longer_active(world):
    order = world.scheduled()
    team = order.assigned_team
    del world.teams.teams[team]  # staff deactivated the team meanwhile
    world.service.assignment.release_team(order)
    assert world.held(team) == frozenset()


def test_freed_capacity_can_be_used_by_the_next_order():
    world = World(teams={"solo": (1, {"hvac"})})
    first = world.scheduled()
    waiting = world.accepted()
    parked = world.service.assignment.schedule(
        order_id=waiting.id, version=waiting.version, actor=ACCEPTED_WORKER
    )
    assert parked is not None and parked.status is Status.ACCEPTED

    world.service.assignment.release_team(first)
    moved = world.repo.get(waiting.id)
    assert moved.status is Status.SCHEDULED and moved.assigned_team == "solo"
    assert world.held("solo") == {waiting.id}


def test_a_duplicate_that_loses_the_race_leaves_the_winners_team_reserved(world):
    order = world.accepted()
    read_before_the_winner_saved = world.repo.get(order.id)
    winner = world.service.assignment.schedule(
        order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
    )
    assert winner is not None

    # The duplicate delivery read the order before the winner's write landed.
    reads = iter([read_before_the_winner_saved])
    real_get = world.repo.get
    world.repo.get = lambda order_id: next(reads, None) or real_get(order_id)
    again = world.service.assignment.schedule(
        order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
    )

    assert again is None
    assert order.id in world.held(winner.assigned_team)


def test_staff_move_a_scheduled_order_to_another_team_and_the_capacity_follows(world):
    order = world.scheduled()
    first = order.assigned_team
    other = next(code for code in ("north", "south") if code != first)
    moved = world.service.assignment.assign_team(
        order_id=order.id,
        team=other,
        expected_version=order.version,
        actor=Actor.staff("dispatcher"),
    )
    assert (moved.assigned_team, moved.version, moved.status) == (
        other,
        order.version + 1,
        "scheduled",
    )
    assert order.id in world.held(other) and order.id not in world.held(first)
    assert moved.history[-1].reason == f"assigned to team {other} (was {first})"
    assert world.published[-1].attributes["event_type"] == "order.updated"


def test_a_team_change_is_refused_for_unscheduled_orders_and_unknown_teams(world):
    received = world.create()
    with pytest.raises(ValidationError):
        world.service.assignment.assign_team(
            order_id=received.id, team="north", expected_version=1, actor=Actor.staff("s")
        )
    scheduled = world.scheduled()
    with pytest.raises(ValidationError):
        world.service.assignment.assign_team(
            order_id=scheduled.id,
            team="nowhere",
            expected_version=scheduled.version,
            actor=Actor.staff("s"),
        )
    assert world.repo.get(scheduled.id).version == scheduled.version


# -- the capacity backlog ----------------------------------------------------------------------


def plumbing_world(capacity: int = 1) -> World:
    return World(teams={"pipes": (capacity, {"plumbing"}), "air": (5, {"hvac"})})


def park(world: World, **kwargs) -> Order:
    """An accepted order whose scheduling found every team full: it waits, in accepted."""
    order = world.accepted(category="plumbing", **kwargs)
    result = world.service.assignment.schedule(
        order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
    )
    assert result is not None and result.status is Status.ACCEPTED
    return result


def finish(world: World, order: Order) -> Order:
    started = world.service.intake.transition_order(
        order_id=order.id, to="in_progress", actor=STAFF
    )
    return world.service.intake.transition_order(order_id=started.id, to="completed", actor=STAFF)


def test_an_order_no_team_has_room_for_waits_in_accepted_instead_of_failing():
    world = plumbing_world()
    world.scheduled(category="plumbing")
    order = world.accepted(category="plumbing")

    result = world.service.assignment.schedule(
        order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
    )

    assert result == order  # unchanged: still accepted, no team, nothing raised
    assert world.repo.get(order.id).status is Status.ACCEPTED
    assert world.repo.get(order.id).assigned_team is None
    assert [o.id for o in world.service.read.backlog()] == [order.id]
    assert order.id not in world.held("pipes")


def test_freed_capacity_goes_to_the_oldest_waiting_order_first():
    world = plumbing_world()
    first = world.scheduled(category="plumbing")
    older = park(world)
    younger = park(world)

    done = finish(world, first)
    assigned = world.service.assignment.release_team(done)

    assert [o.id for o in assigned] == [older.id]
    assert world.repo.get(older.id).status is Status.SCHEDULED
    assert world.repo.get(older.id).assigned_team == "pipes"
    assert world.repo.get(younger.id).status is Status.ACCEPTED
    assert world.held("pipes") == {older.id}
    assert [o.id for o in world.service.read.backlog()] == [younger.id]


def test_a_waiting_order_is_scheduled_by_a_system_actor_with_a_full_history():
    world = plumbing_world()
    first = world.scheduled(category="plumbing")
    waiting = park(world)
    world.service.assignment.release_team(finish(world, first))

    last = world.repo.get(waiting.id).history[-1]
    assert (last.from_status, last.to_status) == (Status.ACCEPTED, Status.SCHEDULED)
    assert last.actor.kind is ActorKind.SYSTEM
    assert world.published[-1].attributes["status"] == "scheduled"


def test_a_new_order_does_not_jump_the_queue_when_a_freeing_was_missed():
    world = plumbing_world()
    first = world.scheduled(category="plumbing")
    older = park(world)
    world.loads.release("pipes", first.id)  # capacity freed, but the sweep never ran
    younger = world.accepted(category="plumbing")

    result = world.service.assignment.schedule(
        order_id=younger.id, version=younger.version, actor=ACCEPTED_WORKER
    )

    assert result is not None and result.status is Status.ACCEPTED  # younger waits ...
    assert world.repo.get(older.id).status is Status.SCHEDULED  # ... the older one went first


def test_raising_a_teams_capacity_assigns_waiting_orders_oldest_first():
    world = plumbing_world()
    world.scheduled(category="plumbing")
    older, middle, younger = park(world), park(world), park(world)

    world.teams.teams["pipes"] = (3, {"plumbing"})
    assigned = world.service.assignment.assign_waiting(categories={"plumbing"})

    assert [o.id for o in assigned] == [older.id, middle.id]
    assert world.repo.get(younger.id).status is Status.ACCEPTED


def test_a_team_added_for_the_category_takes_waiting_orders():
    world = plumbing_world()
    world.scheduled(category="plumbing")
    waiting = park(world)

    world.teams.teams["more-pipes"] = (1, {"plumbing"})
    assigned = world.service.assignment.assign_waiting()

    assert [(o.id, o.assigned_team) for o in assigned] == [(waiting.id, "more-pipes")]


def test_a_full_category_does_not_hold_up_another():
    world = plumbing_world()
    world.scheduled(category="plumbing")
    plumbing = park(world)
    hvac = world.accepted(category="hvac")  # its event was lost: only the sweep can place it

    assigned = world.service.assignment.assign_waiting()

    assert [o.id for o in assigned] == [hvac.id]
    assert world.repo.get(plumbing.id).status is Status.ACCEPTED


def test_a_cancelled_waiting_order_leaves_the_backlog():
    world = plumbing_world()
    first = world.scheduled(category="plumbing")
    waiting = park(world)
    world.service.intake.transition_order(order_id=waiting.id, to="cancelled", actor=INTEGRATOR)

    assert world.service.read.backlog() == []
    assert world.service.assignment.release_team(finish(world, first)) == []
