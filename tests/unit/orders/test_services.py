"""OrderService over the in-memory repositories, with fakes for SNS, the teams and notifications."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from orders.domain.errors import ConcurrencyConflict, IllegalTransition, ValidationError
from orders.domain.model import Actor, Order, TechnicianRef
from orders.domain.rules import OrderInput
from orders.domain.sla import ALWAYS, BusinessCalendar
from orders.domain.workflow import ActorKind, Status
from orders.events.contract import EventMessage, parse_event
from orders.repository.memory import InMemoryOrderRepository, InMemoryTeamLoads
from orders.services import OrderService, TeamInfo

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
INTEGRATOR = Actor.integrator("acme")
STAFF = Actor.staff("alice")
RECEIVED_WORKER = Actor.system("received-worker")
ACCEPTED_WORKER = Actor.system("accepted-worker")
#: code -> (capacity, categories served)
DEFAULT_TEAMS = {"north": (2, {"hvac"}), "south": (3, {"hvac", "general"})}


class FakeTeamDirectory:
    def __init__(
        self,
        teams: dict[str, tuple[int, set[str]]],
        *,
        calendars: dict[str, BusinessCalendar] | None = None,
        members: dict[str, dict[str, str]] | None = None,
    ):
        #: code -> (capacity, categories)
        self.teams = teams
        #: code -> working hours (the default: always)
        self.calendars = calendars or {}
        #: code -> {technician id: name}
        self.members = members or {}

    def calendar(self, team: str | None) -> BusinessCalendar:
        return self.calendars.get(team or "", ALWAYS)

    def technician(self, team: str, technician_id: str) -> TechnicianRef | None:
        name = self.members.get(team, {}).get(technician_id)
        return TechnicianRef(technician_id, name) if name else None

    def active_teams(self, category: str) -> list[TeamInfo]:
        return [
            TeamInfo(code=code, capacity=capacity)
            for code, (capacity, categories) in self.teams.items()
            if category in categories
        ]

    def served_categories(self) -> set[str]:
        return {c for _, categories in self.teams.values() for c in categories}


class FakeNotifier:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def notify(self, event, *, integrator: str) -> int:
        self.calls.append((integrator, event.order_id, event.status, event.id))
        return 1


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


class World:
    """One service with every collaborator in reach of the test."""

    def __init__(self, teams: dict[str, tuple[int, set[str]]] | None = None):
        self.repo = InMemoryOrderRepository()
        self.teams = FakeTeamDirectory(teams if teams is not None else dict(DEFAULT_TEAMS))
        self.loads = InMemoryTeamLoads()
        self.notifier = FakeNotifier()
        self.clock = Clock()
        self.service = OrderService(
            orders=self.repo,
            teams=self.teams,
            loads=self.loads,
            notifier=self.notifier,
            clock=self.clock,
        )

    @property
    def published(self) -> list[EventMessage]:
        """Events committed with their orders, in order: what the event relay publishes."""
        return self.repo.stream

    @property
    def statuses(self) -> list[str]:
        return [m.attributes["status"] for m in self.published]

    def create(self, *, category: str = "hvac", order_id: str | None = None, **fields) -> Order:
        data = OrderInput(
            title="Fix the boiler", category=category, site="12 High Street", **fields
        )
        return self.service.create_order(
            data=data, integrator="acme", actor=INTEGRATOR, order_id=order_id
        )

    def accepted(self, **kwargs) -> Order:
        order = self.create(**kwargs)
        self.clock.advance(timedelta(minutes=1))
        moved = self.service.review(order_id=order.id, version=order.version, actor=RECEIVED_WORKER)
        assert moved is not None and moved.status is Status.ACCEPTED
        return moved

    def scheduled(self, **kwargs) -> Order:
        order = self.accepted(**kwargs)
        self.clock.advance(timedelta(minutes=1))
        moved = self.service.schedule(
            order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
        )
        assert moved is not None and moved.status is Status.SCHEDULED
        return moved

    def held(self, team: str) -> frozenset[str]:
        return self.loads.holdings([team])[team]


@pytest.fixture
def world() -> World:
    return World()


# -- create_order ------------------------------------------------------------------------------


def test_create_order_stores_the_order(world):
    order = world.create(order_id="order-1")
    assert order.id == "order-1"
    assert order.status is Status.RECEIVED
    assert order.version == 1
    assert order.created_at == T0
    assert world.repo.get("order-1") == order


def test_create_order_commits_one_received_event_with_the_order(world):
    order = world.create()
    assert len(world.published) == 1
    message = world.published[0]
    assert message.attributes == {
        "status": "received",
        "event_type": "order.created",
        "visibility": "public",
    }
    assert message.order_id == order.id
    assert message.event_id == order.history[0].event_id
    received = parse_event(message.body)
    assert (received.order_id, received.status, received.order_version) == (order.id, "received", 1)


def test_create_order_without_id_generates_distinct_ids(world):
    first, second = world.create(), world.create()
    assert first.id and second.id and first.id != second.id


# -- transition_order --------------------------------------------------------------------------


def test_transition_order_moves_and_publishes(world):
    order = world.create()
    world.clock.advance(timedelta(minutes=5))
    moved = world.service.transition_order(
        order_id=order.id,
        to="cancelled",
        actor=INTEGRATOR,
        reason="duplicate",
        expected_version=1,
    )
    assert moved.status is Status.CANCELLED
    assert moved.version == 2
    assert moved.cancellation_reason == "duplicate"
    assert moved.updated_at == T0 + timedelta(minutes=5)
    assert world.repo.get(order.id) == moved
    assert world.statuses == ["received", "cancelled"]


def test_transition_with_a_stale_version_is_a_conflict_and_changes_nothing(world):
    order = world.create()
    with pytest.raises(ConcurrencyConflict) as info:
        world.service.transition_order(
            order_id=order.id, to="cancelled", actor=STAFF, reason="dup", expected_version=7
        )
    assert info.value.version_changed
    assert info.value.actual_version == 1
    assert world.repo.get(order.id) == order
    assert world.statuses == ["received"]


def test_integrator_cannot_accept_an_order(world):
    order = world.create()
    with pytest.raises(IllegalTransition) as info:
        world.service.transition_order(order_id=order.id, to="accepted", actor=INTEGRATOR)
    assert info.value.allowed == ["cancelled"]
    assert world.repo.get(order.id).status is Status.RECEIVED
    assert world.statuses == ["received"]


# -- review ------------------------------------------------------------------------------------


def test_review_accepts_an_order_in_a_served_category(world):
    order = world.create(priority="urgent")
    world.clock.advance(timedelta(minutes=1))
    moved = world.service.review(order_id=order.id, version=1, actor=RECEIVED_WORKER)

    assert moved is not None
    assert moved.status is Status.ACCEPTED
    assert moved.version == 2
    assert moved.sla_due_at == T0 + timedelta(hours=4)
    assert world.repo.get(order.id) == moved
    assert world.statuses == ["received", "accepted"]


def test_review_rejects_an_order_no_team_serves(world):
    order = world.create(category="plumbing")
    moved = world.service.review(order_id=order.id, version=1, actor=RECEIVED_WORKER)

    assert moved is not None
    assert moved.status is Status.REJECTED
    assert moved.rejection_reason and "plumbing" in moved.rejection_reason
    assert moved.sla_due_at is None
    assert world.repo.get(order.id).status is Status.REJECTED
    assert world.statuses == ["received", "rejected"]


def test_review_of_a_stale_version_does_nothing(world):
    order = world.create()
    assert world.service.review(order_id=order.id, version=2, actor=RECEIVED_WORKER) is None
    assert world.repo.get(order.id) == order
    assert world.statuses == ["received"]


def test_review_of_an_order_that_has_moved_on_does_nothing(world):
    order = world.create()
    world.service.transition_order(order_id=order.id, to="cancelled", actor=INTEGRATOR)
    assert world.service.review(order_id=order.id, version=1, actor=RECEIVED_WORKER) is None
    assert world.repo.get(order.id).status is Status.CANCELLED
    assert world.statuses == ["received", "cancelled"]


def test_review_delivered_twice_is_applied_once(world):
    order = world.create()
    first = world.service.review(order_id=order.id, version=1, actor=RECEIVED_WORKER)
    second = world.service.review(order_id=order.id, version=1, actor=RECEIVED_WORKER)
    assert first is not None and first.status is Status.ACCEPTED
    assert second is None
    assert world.repo.get(order.id).version == 2
    assert len(world.repo.history(order.id)) == 2
    assert world.statuses == ["received", "accepted"]


# -- schedule ----------------------------------------------------------------------------------


def test_schedule_assigns_the_least_loaded_team_and_reserves_it(world):
    world.loads.reserve("north", "other-order", capacity=2)  # north 50 %, south 0 %
    order = world.accepted()
    moved = world.service.schedule(order_id=order.id, version=order.version, actor=ACCEPTED_WORKER)

    assert moved is not None
    assert moved.status is Status.SCHEDULED
    assert moved.assigned_team == "south"
    assert world.held("south") == {order.id}
    assert world.held("north") == {"other-order"}
    assert world.repo.get(order.id) == moved
    assert world.statuses == ["received", "accepted", "scheduled"]


def test_schedule_delivered_twice_is_a_no_op(world):
    order = world.accepted()
    first = world.service.schedule(order_id=order.id, version=order.version, actor=ACCEPTED_WORKER)
    second = world.service.schedule(order_id=order.id, version=order.version, actor=ACCEPTED_WORKER)

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

    result = world.service.schedule(order_id=order.id, version=order.version, actor=ACCEPTED_WORKER)
    assert result == order
    assert world.repo.get(order.id) == order
    assert order.id not in world.held("north") | world.held("south")
    assert world.statuses == ["received", "accepted"]


def test_schedule_only_considers_teams_serving_the_category():
    world = World(teams={"hvac-team": (1, {"hvac"}), "general-team": (5, {"general"})})
    world.loads.reserve("hvac-team", "busy", capacity=1)
    order = world.accepted()
    result = world.service.schedule(order_id=order.id, version=order.version, actor=ACCEPTED_WORKER)
    assert result is not None and result.status is Status.ACCEPTED
    assert world.held("general-team") == frozenset()


def test_schedule_after_a_crash_reuses_the_team_already_reserved(world):
    order = world.accepted()
    # An earlier attempt reserved north (not the least loaded team) and died before saving.
    world.loads.reserve("north", "other-order", capacity=2)
    world.loads.reserve("north", order.id, capacity=2)

    moved = world.service.schedule(order_id=order.id, version=order.version, actor=ACCEPTED_WORKER)

    assert moved is not None
    assert moved.assigned_team == "north"
    assert world.held("north") == {"other-order", order.id}
    assert world.held("south") == frozenset()


def test_schedule_of_an_order_cancelled_meanwhile_does_nothing(world):
    order = world.accepted()
    world.service.transition_order(order_id=order.id, to="cancelled", actor=INTEGRATOR)
    again = world.service.schedule(order_id=order.id, version=order.version, actor=ACCEPTED_WORKER)
    assert again is None
    assert world.held("north") == world.held("south") == frozenset()


# -- release_team ------------------------------------------------------------------------------


def test_release_team_frees_the_capacity_and_is_idempotent(world):
    order = world.scheduled()
    team = order.assigned_team
    assert world.held(team) == {order.id}

    cancelled = world.service.transition_order(
        order_id=order.id, to="cancelled", actor=STAFF, reason="no longer needed"
    )
    world.service.release_team(cancelled)
    assert world.held(team) == frozenset()

    world.service.release_team(cancelled)
    assert world.held(team) == frozenset()


def test_release_team_leaves_other_orders_alone(world):
    world.loads.reserve("south", "other-order", capacity=3)
    order = world.scheduled()
    assert order.assigned_team == "north"
    world.loads.reserve("north", "neighbour", capacity=2)

    world.service.release_team(order)

    assert world.held("north") == {"neighbour"}
    assert world.held("south") == {"other-order"}


def test_release_team_frees_a_team_no_longer_active(world):
    order = world.scheduled()
    team = order.assigned_team
    del world.teams.teams[team]  # staff deactivated the team meanwhile
    world.service.release_team(order)
    assert world.held(team) == frozenset()


def test_freed_capacity_can_be_used_by_the_next_order():
    world = World(teams={"solo": (1, {"hvac"})})
    first = world.scheduled()
    waiting = world.accepted()
    parked = world.service.schedule(
        order_id=waiting.id, version=waiting.version, actor=ACCEPTED_WORKER
    )
    assert parked is not None and parked.status is Status.ACCEPTED

    world.service.release_team(first)
    moved = world.repo.get(waiting.id)
    assert moved.status is Status.SCHEDULED and moved.assigned_team == "solo"
    assert world.held("solo") == {waiting.id}


# -- history and current -----------------------------------------------------------------------


def test_history_records_each_move_with_its_actor(world):
    order = world.scheduled()
    history = world.repo.history(order.id)

    assert [(h.from_status, h.to_status) for h in history] == [
        (None, Status.RECEIVED),
        (Status.RECEIVED, Status.ACCEPTED),
        (Status.ACCEPTED, Status.SCHEDULED),
    ]
    assert [h.actor for h in history] == [INTEGRATOR, RECEIVED_WORKER, ACCEPTED_WORKER]
    assert [h.actor.kind for h in history] == [
        ActorKind.INTEGRATOR,
        ActorKind.SYSTEM,
        ActorKind.SYSTEM,
    ]
    assert [h.version for h in history] == [1, 2, 3]
    assert [h.at for h in history] == [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert [h.event_id for h in history] == [m.event_id for m in world.published]


def test_published_events_describe_each_move_in_order(world):
    order = world.scheduled()
    bodies = [json.loads(m.body) for m in world.published]
    assert [b["data"]["order"]["version"] for b in bodies] == [1, 2, 3]
    assert [b["data"]["transition"]["to"] for b in bodies] == ["received", "accepted", "scheduled"]
    assert bodies[-1]["data"]["order"]["assigned_team"] == order.assigned_team
    assert {m.group_id for m in world.published} == {order.id}


def test_current_returns_the_order_only_where_the_event_left_it(world):
    order = world.create()
    assert world.service.current(order.id, status="received", version=1) == order
    assert world.service.current(order.id, status="received", version=2) is None
    assert world.service.current(order.id, status="accepted", version=1) is None


def test_notify_passes_the_event_to_the_notifier(world):
    order = world.create()
    event = parse_event(world.published[0].body)
    assert world.service.notify(event, order) == 1
    assert world.notifier.calls == [("acme", order.id, "received", event.id)]


def test_a_duplicate_that_loses_the_race_leaves_the_winners_team_reserved(world):
    order = world.accepted()
    read_before_the_winner_saved = world.repo.get(order.id)
    winner = world.service.schedule(order_id=order.id, version=order.version, actor=ACCEPTED_WORKER)
    assert winner is not None

    # The duplicate delivery read the order before the winner's write landed.
    reads = iter([read_before_the_winner_saved])
    real_get = world.repo.get
    world.repo.get = lambda order_id: next(reads, None) or real_get(order_id)
    again = world.service.schedule(order_id=order.id, version=order.version, actor=ACCEPTED_WORKER)

    assert again is None
    assert order.id in world.held(winner.assigned_team)


def test_a_corrected_received_order_is_reviewed_on_its_new_version(world):
    order = world.create(category="plumbing")  # no team serves it: it is rejected
    corrected = world.service.update_order(
        order_id=order.id,
        changes={"title": "Fixed title"},
        expected_version=1,
        actor=Actor.staff("dispatcher"),
    )
    assert world.statuses[-1] == "received"  # order.updated, routed to the received queue
    assert world.published[-1].attributes["event_type"] == "order.updated"
    # The created event is stale now; the update is what the received worker reviews.
    assert world.service.review(order_id=order.id, version=1, actor=RECEIVED_WORKER) is None
    reviewed = world.service.review(
        order_id=order.id, version=corrected.version, actor=RECEIVED_WORKER
    )
    assert reviewed.status == "rejected" and reviewed.version == 3


def test_an_update_from_a_stale_version_is_refused(world):
    order = world.create()
    with pytest.raises(ConcurrencyConflict):
        world.service.update_order(
            order_id=order.id, changes={"title": "x"}, expected_version=7, actor=Actor.staff("s")
        )
    assert world.repo.get(order.id).version == 1


def test_staff_move_a_scheduled_order_to_another_team_and_the_capacity_follows(world):
    order = world.scheduled()
    first = order.assigned_team
    other = next(code for code in ("north", "south") if code != first)
    moved = world.service.assign_team(
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
        world.service.assign_team(
            order_id=received.id, team="north", expected_version=1, actor=Actor.staff("s")
        )
    scheduled = world.scheduled()
    with pytest.raises(ValidationError):
        world.service.assign_team(
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
    result = world.service.schedule(order_id=order.id, version=order.version, actor=ACCEPTED_WORKER)
    assert result is not None and result.status is Status.ACCEPTED
    return result


def finish(world: World, order: Order) -> Order:
    started = world.service.transition_order(order_id=order.id, to="in_progress", actor=STAFF)
    return world.service.transition_order(order_id=started.id, to="completed", actor=STAFF)


def test_an_order_no_team_has_room_for_waits_in_accepted_instead_of_failing():
    world = plumbing_world()
    world.scheduled(category="plumbing")
    order = world.accepted(category="plumbing")

    result = world.service.schedule(order_id=order.id, version=order.version, actor=ACCEPTED_WORKER)

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
    assigned = world.service.release_team(done)

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
    world.service.release_team(finish(world, first))

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

    result = world.service.schedule(
        order_id=younger.id, version=younger.version, actor=ACCEPTED_WORKER
    )

    assert result is not None and result.status is Status.ACCEPTED  # younger waits ...
    assert world.repo.get(older.id).status is Status.SCHEDULED  # ... the older one went first


def test_raising_a_teams_capacity_assigns_waiting_orders_oldest_first():
    world = plumbing_world()
    world.scheduled(category="plumbing")
    older, middle, younger = park(world), park(world), park(world)

    world.teams.teams["pipes"] = (3, {"plumbing"})
    assigned = world.service.assign_waiting(categories={"plumbing"})

    assert [o.id for o in assigned] == [older.id, middle.id]
    assert world.repo.get(younger.id).status is Status.ACCEPTED


def test_a_team_added_for_the_category_takes_waiting_orders():
    world = plumbing_world()
    world.scheduled(category="plumbing")
    waiting = park(world)

    world.teams.teams["more-pipes"] = (1, {"plumbing"})
    assigned = world.service.assign_waiting()

    assert [(o.id, o.assigned_team) for o in assigned] == [(waiting.id, "more-pipes")]


def test_a_full_category_does_not_hold_up_another():
    world = plumbing_world()
    world.scheduled(category="plumbing")
    plumbing = park(world)
    hvac = world.accepted(category="hvac")  # its event was lost: only the sweep can place it

    assigned = world.service.assign_waiting()

    assert [o.id for o in assigned] == [hvac.id]
    assert world.repo.get(plumbing.id).status is Status.ACCEPTED


def test_a_cancelled_waiting_order_leaves_the_backlog():
    world = plumbing_world()
    first = world.scheduled(category="plumbing")
    waiting = park(world)
    world.service.transition_order(order_id=waiting.id, to="cancelled", actor=INTEGRATOR)

    assert world.service.read.backlog() == []
    assert world.service.release_team(finish(world, first)) == []
