"""The order use cases over the in-memory repositories: intake, moves, review, history."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from orders.domain.errors import ConcurrencyConflict, IllegalTransition
from orders.domain.model import Actor
from orders.domain.workflow import ActorKind, Status
from orders.events.contract import parse_event
from tests.unit.orders.services_world import (
    ACCEPTED_WORKER,
    INTEGRATOR,
    RECEIVED_WORKER,
    STAFF,
    T0,
    World,
)


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
    moved = world.service.intake.transition_order(
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
        world.service.intake.transition_order(
            order_id=order.id, to="cancelled", actor=STAFF, reason="dup", expected_version=7
        )
    assert info.value.version_changed
    assert info.value.actual_version == 1
    assert world.repo.get(order.id) == order
    assert world.statuses == ["received"]


def test_integrator_cannot_accept_an_order(world):
    order = world.create()
    with pytest.raises(IllegalTransition) as info:
        world.service.intake.transition_order(order_id=order.id, to="accepted", actor=INTEGRATOR)
    assert info.value.allowed == ["cancelled"]
    assert world.repo.get(order.id).status is Status.RECEIVED
    assert world.statuses == ["received"]


# -- review ------------------------------------------------------------------------------------


def test_review_accepts_an_order_in_a_served_category(world):
    order = world.create(priority="urgent")
    world.clock.advance(timedelta(minutes=1))
    moved = world.service.pipeline.review(order_id=order.id, version=1, actor=RECEIVED_WORKER)

    assert moved is not None
    assert moved.status is Status.ACCEPTED
    assert moved.version == 2
    assert moved.sla_due_at == T0 + timedelta(hours=4)
    assert world.repo.get(order.id) == moved
    assert world.statuses == ["received", "accepted"]


def test_review_rejects_an_order_no_team_serves(world):
    order = world.create(category="plumbing")
    moved = world.service.pipeline.review(order_id=order.id, version=1, actor=RECEIVED_WORKER)

    assert moved is not None
    assert moved.status is Status.REJECTED
    assert moved.rejection_reason and "plumbing" in moved.rejection_reason
    assert moved.sla_due_at is None
    assert world.repo.get(order.id).status is Status.REJECTED
    assert world.statuses == ["received", "rejected"]


def test_review_of_a_stale_version_does_nothing(world):
    order = world.create()
    assert (
        world.service.pipeline.review(order_id=order.id, version=2, actor=RECEIVED_WORKER) is None
    )
    assert world.repo.get(order.id) == order
    assert world.statuses == ["received"]


def test_review_of_an_order_that_has_moved_on_does_nothing(world):
    order = world.create()
    world.service.intake.transition_order(order_id=order.id, to="cancelled", actor=INTEGRATOR)
    assert (
        world.service.pipeline.review(order_id=order.id, version=1, actor=RECEIVED_WORKER) is None
    )
    assert world.repo.get(order.id).status is Status.CANCELLED
    assert world.statuses == ["received", "cancelled"]


def test_review_delivered_twice_is_applied_once(world):
    order = world.create()
    first = world.service.pipeline.review(order_id=order.id, version=1, actor=RECEIVED_WORKER)
    second = world.service.pipeline.review(order_id=order.id, version=1, actor=RECEIVED_WORKER)
    assert first is not None and first.status is Status.ACCEPTED
    assert second is None
    assert world.repo.get(order.id).version == 2
    assert len(world.repo.history(order.id)) == 2
    assert world.statuses == ["received", "accepted"]


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
    assert world.service.changes.current(order.id, status="received", version=1) == order
    assert world.service.changes.current(order.id, status="received", version=2) is None
    assert world.service.changes.current(order.id, status="accepted", version=1) is None


def test_notify_passes_the_event_to_the_notifier(world):
    order = world.create()
    event = parse_event(world.published[0].body)
    assert world.service.pipeline.notify(event, order) == 1
    assert world.notifier.calls == [("acme", order.id, "received", event.id)]


def test_a_corrected_received_order_is_reviewed_on_its_new_version(world):
    order = world.create(category="plumbing")  # no team serves it: it is rejected
    corrected = world.service.intake.update_order(
        order_id=order.id,
        changes={"title": "Fixed title"},
        expected_version=1,
        actor=Actor.staff("dispatcher"),
    )
    assert world.statuses[-1] == "received"  # order.updated, routed to the received queue
    assert world.published[-1].attributes["event_type"] == "order.updated"
    # The created event is stale now; the update is what the received worker reviews.
    assert (
        world.service.pipeline.review(order_id=order.id, version=1, actor=RECEIVED_WORKER) is None
    )
    reviewed = world.service.pipeline.review(
        order_id=order.id, version=corrected.version, actor=RECEIVED_WORKER
    )
    assert reviewed.status == "rejected" and reviewed.version == 3


def test_an_update_from_a_stale_version_is_refused(world):
    order = world.create()
    with pytest.raises(ConcurrencyConflict):
        world.service.intake.update_order(
            order_id=order.id, changes={"title": "x"}, expected_version=7, actor=Actor.staff("s")
        )
    assert world.repo.get(order.id).version == 1
