"""Properties of the workflow table: the single source of every status-shaped thing."""

from __future__ import annotations

import pytest

from orders.domain.errors import IllegalTransition
from orders.domain.workflow import (
    INITIAL_STATUS,
    OPEN_STATUSES,
    STATUSES,
    TERMINAL_STATUSES,
    WORKFLOW,
    ActorKind,
    Status,
    allowed_moves,
    check_move,
)

ALL_MOVES = [
    (from_status, to_status, actors)
    for from_status, spec in WORKFLOW.items()
    for to_status, actors in spec.moves.items()
]


def reachable_from(start: Status) -> set[Status]:
    seen = {start}
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for target in WORKFLOW[current].moves:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


def test_table_is_keyed_by_its_own_status_and_covers_every_status():
    assert set(WORKFLOW) == set(Status)
    assert tuple(WORKFLOW) == STATUSES
    for status, spec in WORKFLOW.items():
        assert spec.status is status


@pytest.mark.parametrize(("from_status", "to_status", "actors"), ALL_MOVES)
def test_every_move_targets_a_known_status_and_names_actors(from_status, to_status, actors):
    assert to_status in WORKFLOW
    assert to_status is not from_status
    assert actors, f"nobody may move {from_status} -> {to_status}"
    assert all(isinstance(actor, ActorKind) for actor in actors)


def test_terminal_statuses_are_exactly_those_without_moves():
    without_moves = {status for status, spec in WORKFLOW.items() if not spec.moves}
    assert without_moves == TERMINAL_STATUSES
    assert {Status.COMPLETED, Status.CANCELLED, Status.REJECTED} == TERMINAL_STATUSES
    assert set(Status) - TERMINAL_STATUSES == OPEN_STATUSES
    for status in TERMINAL_STATUSES:
        assert WORKFLOW[status].terminal
    for status in OPEN_STATUSES:
        assert not WORKFLOW[status].terminal


def test_every_status_is_reachable_from_the_initial_status():
    assert INITIAL_STATUS is Status.RECEIVED
    assert reachable_from(INITIAL_STATUS) == set(Status)


def test_every_open_status_can_reach_a_terminal_status():
    for status in OPEN_STATUSES:
        assert reachable_from(status) & TERMINAL_STATUSES, status


@pytest.mark.parametrize("actor", [ActorKind.INTEGRATOR, ActorKind.STAFF])
@pytest.mark.parametrize("status", sorted(OPEN_STATUSES))
def test_integrators_and_staff_may_cancel_every_open_order(status, actor):
    assert Status.CANCELLED in allowed_moves(status, actor)
    check_move(status, Status.CANCELLED, actor)  # does not raise


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
@pytest.mark.parametrize("actor", list(ActorKind))
def test_nobody_may_move_a_finished_order(status, actor):
    assert allowed_moves(status, actor) == []
    with pytest.raises(IllegalTransition) as info:
        check_move(status, Status.CANCELLED, actor)
    assert info.value.allowed == []


def test_only_the_system_accepts_and_schedules():
    system_only = {
        (from_status, to_status)
        for from_status, to_status, actors in ALL_MOVES
        if actors == {ActorKind.SYSTEM}
    }
    assert system_only == {
        (Status.RECEIVED, Status.ACCEPTED),
        (Status.ACCEPTED, Status.SCHEDULED),
    }
    for actor in (ActorKind.INTEGRATOR, ActorKind.STAFF):
        assert Status.ACCEPTED not in allowed_moves(Status.RECEIVED, actor)
        assert Status.SCHEDULED not in allowed_moves(Status.ACCEPTED, actor)
    assert Status.ACCEPTED in allowed_moves(Status.RECEIVED, ActorKind.SYSTEM)
    assert Status.SCHEDULED in allowed_moves(Status.ACCEPTED, ActorKind.SYSTEM)


def test_allowed_moves_accepts_plain_strings_and_keeps_table_order():
    assert allowed_moves("received", "system") == [Status.ACCEPTED, Status.REJECTED]
    assert allowed_moves("received", "staff") == [Status.REJECTED, Status.CANCELLED]
    assert allowed_moves("received", "integrator") == [Status.CANCELLED]
    assert allowed_moves("scheduled", "integrator") == [Status.IN_PROGRESS, Status.CANCELLED]


def test_check_move_allows_a_listed_move():
    check_move("received", "accepted", "system")
    check_move(Status.IN_PROGRESS, Status.COMPLETED, ActorKind.STAFF)


def test_check_move_refusal_says_what_the_actor_may_do_instead():
    with pytest.raises(IllegalTransition) as info:
        check_move("received", "accepted", "integrator")
    error = info.value
    assert error.from_status == "received"
    assert error.to_status == "accepted"
    assert error.actor_kind == "integrator"
    assert error.allowed == ["cancelled"]
    assert "cancelled" in str(error)


def test_check_move_refusal_lists_every_allowed_target_for_that_actor():
    with pytest.raises(IllegalTransition) as info:
        check_move("scheduled", "completed", "staff")
    assert info.value.allowed == sorted(["in_progress", "on_hold", "cancelled"])
    assert all(isinstance(target, str) for target in info.value.allowed)


def test_check_move_refuses_a_move_to_the_same_status():
    with pytest.raises(IllegalTransition):
        check_move("accepted", "accepted", "system")


def test_unknown_status_or_actor_is_rejected():
    with pytest.raises(ValueError):
        allowed_moves("bogus", "system")
    with pytest.raises(ValueError):
        allowed_moves("received", "robot")
