"""The business rules: validation, creation, moves, review and team ranking."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from orders.domain import rules
from orders.domain.errors import IllegalTransition, ValidationError
from orders.domain.model import (
    SLA_BY_PRIORITY,
    Actor,
    Contact,
    EventType,
    Order,
    Priority,
    TimeWindow,
)
from orders.domain.rules import OrderInput, TeamCandidate
from orders.domain.workflow import ActorKind, Status

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
INTEGRATOR = Actor.integrator("acme")
WORKER = Actor.system("received-worker")
STAFF = Actor.staff("alice")


def order_input(**changes) -> OrderInput:
    base = OrderInput(
        title="Fix the boiler",
        category="hvac",
        priority="normal",
        site="12 High Street",
    )
    return dataclasses.replace(base, **changes)


def validation_errors(data: OrderInput) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        rules.validate_input(data)
    return info.value.errors


def new_order(*, now: datetime = T0, **changes) -> Order:
    order, _ = rules.create_order(
        order_input(**changes), order_id="order-1", integrator="acme", actor=INTEGRATOR, now=now
    )
    return order


def accepted_order(**changes) -> Order:
    order, _ = rules.move(
        new_order(**changes), "accepted", actor=WORKER, now=T0 + timedelta(minutes=1)
    )
    return order


def in_progress_order(**changes) -> Order:
    order = accepted_order(**changes)
    order, _ = rules.move(
        order, "scheduled", actor=WORKER, now=T0 + timedelta(minutes=2), team="t1"
    )
    order, _ = rules.move(order, "in_progress", actor=STAFF, now=T0 + timedelta(minutes=3))
    return order


# -- validate_input ----------------------------------------------------------------------------


def test_valid_input_is_normalised():
    valid = rules.validate_input(order_input(title="  Fix it  ", site=" Site A ", priority="high"))
    assert valid.title == "Fix it"
    assert valid.site == "Site A"
    assert valid.priority is Priority.HIGH
    assert valid.metadata == {}


def test_all_field_problems_are_reported_at_once_keyed_by_field():
    errors = validation_errors(
        order_input(title="  ", category="roofing", priority="asap", site="")
    )
    assert set(errors) == {"title", "category", "priority", "site"}
    assert errors["title"] == ["This field is required."]
    assert "'roofing' is not a category" in errors["category"][0]
    assert "'asap' is not a priority" in errors["priority"][0]


def test_validation_error_message_names_each_field():
    with pytest.raises(ValidationError) as info:
        rules.validate_input(order_input(title="", category="roofing"))
    assert "title:" in str(info.value)
    assert "category:" in str(info.value)


def test_title_at_the_limit_is_fine_but_one_more_character_is_not():
    rules.validate_input(order_input(title="x" * rules.TITLE_MAX))
    errors = validation_errors(order_input(title="x" * (rules.TITLE_MAX + 1)))
    assert list(errors) == ["title"]
    assert str(rules.TITLE_MAX) in errors["title"][0]


def test_overlong_description_is_reported():
    errors = validation_errors(order_input(description="d" * (rules.DESCRIPTION_MAX + 1)))
    assert list(errors) == ["description"]


@pytest.mark.parametrize(
    "reference",
    # "#" is refused: it separates integrator and reference in the lookup key.
    ["", " REF-1", "-REF", "REF 1", "REF\t1", "réf-1", "PO#7", "x" * (rules.REFERENCE_MAX + 1)],
)
def test_bad_external_reference_is_reported(reference):
    assert list(validation_errors(order_input(external_reference=reference))) == [
        "external_reference"
    ]


def test_external_reference_with_trailing_newline_is_reported():
    # ``$`` also matches just before a final newline, so this must be checked explicitly.
    assert list(validation_errors(order_input(external_reference="REF-1\n"))) == [
        "external_reference"
    ]


@pytest.mark.parametrize("reference", ["PO-2025/03-7", "a", "A1.b_c:d", "x" * rules.REFERENCE_MAX])
def test_good_external_reference_is_kept(reference):
    valid = rules.validate_input(order_input(external_reference=reference))
    assert valid.external_reference == reference


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@c.de", "@c.de"])
def test_invalid_contact_email_is_reported(email):
    errors = validation_errors(order_input(contact=Contact(name="Bo", email=email)))
    assert errors == {"contact.email": ["Enter a valid email address."]}


def test_overlong_contact_fields_are_reported_per_field():
    long = "x" * (rules.CONTACT_FIELD_MAX + 1)
    errors = validation_errors(order_input(contact=Contact(name=long, phone=long)))
    assert set(errors) == {"contact.name", "contact.phone"}


def test_contact_without_email_is_fine():
    contact = Contact(name="Bo", phone="+44 1234")
    assert rules.validate_input(order_input(contact=contact)).contact == contact


def test_window_ending_before_it_starts_is_reported():
    window = TimeWindow(start=T0 + timedelta(hours=2), end=T0 + timedelta(hours=1))
    assert validation_errors(order_input(requested_window=window)) == {
        "requested_window.end": ["Must be after the start."]
    }


def test_window_ending_when_it_starts_is_reported():
    window = TimeWindow(start=T0, end=T0)
    assert list(validation_errors(order_input(requested_window=window))) == ["requested_window.end"]


@pytest.mark.parametrize(
    "window",
    [
        TimeWindow(start=datetime(2025, 3, 3, 9), end=datetime(2025, 3, 3, 10)),
        TimeWindow(start=T0, end=datetime(2025, 3, 3, 10)),
        TimeWindow(start=datetime(2025, 3, 3, 9), end=T0 + timedelta(hours=1)),
    ],
)
def test_naive_window_times_are_reported(window):
    errors = validation_errors(order_input(requested_window=window))
    assert errors == {"requested_window": ["Times must include a time zone offset."]}


def test_metadata_over_the_size_limit_is_reported():
    errors = validation_errors(order_input(metadata={"notes": "x" * rules.METADATA_MAX_BYTES}))
    assert list(errors) == ["metadata"]
    assert str(rules.METADATA_MAX_BYTES) in errors["metadata"][0]


def test_metadata_just_under_the_size_limit_is_fine():
    # {"n":"..."} is 8 bytes of JSON around the value.
    metadata = {"n": "x" * (rules.METADATA_MAX_BYTES - 8)}
    assert rules.validate_input(order_input(metadata=metadata)).metadata == metadata


@pytest.mark.parametrize(
    "metadata",
    [{"when": T0}, {"obj": object()}, {"n": float("nan")}, {"tags": {"a", "b"}}],
    ids=["datetime", "object", "nan", "set"],
)
def test_metadata_that_is_not_json_is_reported(metadata):
    assert validation_errors(order_input(metadata=metadata)) == {
        "metadata": ["Must contain only JSON values."]
    }


def test_metadata_that_is_not_an_object_is_reported():
    assert validation_errors(order_input(metadata=["a", "b"])) == {
        "metadata": ["Must be a JSON object."]
    }


def test_metadata_with_too_many_keys_is_reported():
    metadata = {f"k{i}": i for i in range(rules.METADATA_MAX_KEYS + 1)}
    assert list(validation_errors(order_input(metadata=metadata))) == ["metadata"]


# -- create_order ------------------------------------------------------------------------------


def test_create_order_starts_received_at_version_1_with_one_history_entry():
    order, event = rules.create_order(
        order_input(priority="urgent"), order_id="o-9", integrator="acme", actor=INTEGRATOR, now=T0
    )
    assert order.id == "o-9"
    assert order.integrator == "acme"
    assert order.status is Status.RECEIVED
    assert order.version == 1
    assert order.priority is Priority.URGENT
    assert order.created_at == order.updated_at == order.status_changed_at == T0
    assert order.sla_due_at is None
    assert len(order.history) == 1
    entry = order.history[0]
    assert entry.from_status is None
    assert entry.to_status is Status.RECEIVED
    assert entry.version == 1
    assert entry.actor == INTEGRATOR
    assert entry.at == T0
    assert entry.event_id == event.id


def test_create_order_event_describes_the_creation():
    order, event = rules.create_order(
        order_input(), order_id="o-9", integrator="acme", actor=INTEGRATOR, now=T0
    )
    assert event.type is EventType.CREATED
    assert event.from_status is None
    assert event.to_status is Status.RECEIVED
    assert event.actor == INTEGRATOR
    assert event.occurred_at == T0
    assert event.order == order  # the event carries the order with its history


def test_create_order_refuses_invalid_input():
    with pytest.raises(ValidationError) as info:
        rules.create_order(
            order_input(title=""), order_id="o", integrator="acme", actor=INTEGRATOR, now=T0
        )
    assert "title" in info.value.errors


# -- move --------------------------------------------------------------------------------------


def test_move_bumps_version_and_appends_history():
    order = new_order()
    later = T0 + timedelta(minutes=5)
    moved, event = rules.move(order, "cancelled", actor=STAFF, now=later, reason="  duplicate  ")
    assert moved.version == order.version + 1
    assert moved.status is Status.CANCELLED
    assert moved.updated_at == moved.status_changed_at == later
    assert moved.created_at == T0
    assert moved.cancellation_reason == "duplicate"
    assert len(moved.history) == 2
    assert moved.history[0] == order.history[0]
    entry = moved.history[-1]
    assert entry.from_status is Status.RECEIVED
    assert entry.to_status is Status.CANCELLED
    assert entry.actor == STAFF
    assert entry.reason == "duplicate"
    assert entry.version == 2
    assert entry.at == later
    assert entry.event_id == event.id


def test_move_event_carries_from_and_to():
    moved, event = rules.move(new_order(), "accepted", actor=WORKER, now=T0)
    assert event.type is EventType.STATUS_CHANGED
    assert event.from_status is Status.RECEIVED
    assert event.to_status is Status.ACCEPTED
    assert event.actor == WORKER
    assert event.order == moved


def test_move_does_not_change_the_original_order():
    order = new_order()
    rules.move(order, "accepted", actor=WORKER, now=T0)
    assert order.status is Status.RECEIVED
    assert order.version == 1
    assert len(order.history) == 1


@pytest.mark.parametrize("priority", list(Priority))
def test_accept_sets_sla_due_from_creation_time_and_priority(priority):
    created = new_order(priority=priority)
    moved, _ = rules.move(created, "accepted", actor=WORKER, now=T0 + timedelta(hours=1))
    assert moved.sla_due_at == T0 + SLA_BY_PRIORITY[priority]


def test_sla_table_orders_priorities_by_urgency():
    assert (
        SLA_BY_PRIORITY[Priority.URGENT]
        < SLA_BY_PRIORITY[Priority.HIGH]
        < SLA_BY_PRIORITY[Priority.NORMAL]
        < SLA_BY_PRIORITY[Priority.LOW]
    )


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reject_without_reason_is_a_validation_error_on_reason(reason):
    with pytest.raises(ValidationError) as info:
        rules.move(new_order(), "rejected", actor=WORKER, now=T0, reason=reason)
    assert list(info.value.errors) == ["reason"]


def test_reject_with_reason_records_it():
    moved, event = rules.move(new_order(), "rejected", actor=WORKER, now=T0, reason="No team")
    assert moved.status is Status.REJECTED
    assert moved.rejection_reason == "No team"
    assert event.reason == "No team"


def test_overlong_reason_is_refused():
    with pytest.raises(ValidationError) as info:
        rules.move(
            new_order(), "cancelled", actor=STAFF, now=T0, reason="r" * (rules.REASON_MAX + 1)
        )
    assert list(info.value.errors) == ["reason"]


def test_move_to_an_unknown_status_is_a_validation_error_on_to():
    with pytest.raises(ValidationError) as info:
        rules.move(new_order(), "done", actor=STAFF, now=T0)
    assert list(info.value.errors) == ["to"]


def test_move_the_table_forbids_is_an_illegal_transition():
    with pytest.raises(IllegalTransition) as info:
        rules.move(new_order(), "accepted", actor=INTEGRATOR, now=T0)
    assert info.value.allowed == ["cancelled"]
    assert info.value.actor_kind == ActorKind.INTEGRATOR


def test_scheduling_without_team_is_an_error():
    with pytest.raises(ValidationError) as info:
        rules.move(accepted_order(), "scheduled", actor=WORKER, now=T0)
    assert list(info.value.errors) == ["team"]


def test_scheduling_with_team_assigns_it():
    moved, _ = rules.move(accepted_order(), "scheduled", actor=WORKER, now=T0, team="north")
    assert moved.status is Status.SCHEDULED
    assert moved.assigned_team == "north"


def test_starting_work_records_the_start_time():
    order = in_progress_order()
    assert order.status is Status.IN_PROGRESS
    assert order.started_at == T0 + timedelta(minutes=3)


def test_completing_before_the_sla_meets_it():
    order = in_progress_order(priority="urgent")
    done_at = T0 + timedelta(hours=3, minutes=59)
    moved, _ = rules.move(order, "completed", actor=STAFF, now=done_at)
    assert moved.completed_at == done_at
    assert moved.sla_met is True
    assert moved.resolution_time == timedelta(hours=3, minutes=59)


def test_completing_exactly_at_the_sla_meets_it():
    order = in_progress_order(priority="urgent")
    moved, _ = rules.move(order, "completed", actor=STAFF, now=T0 + timedelta(hours=4))
    assert moved.sla_met is True


def test_completing_after_the_sla_misses_it():
    order = in_progress_order(priority="urgent")
    moved, _ = rules.move(order, "completed", actor=STAFF, now=T0 + timedelta(hours=4, seconds=1))
    assert moved.sla_met is False


def test_order_has_no_resolution_time_until_completed():
    assert in_progress_order().resolution_time is None


# -- review ------------------------------------------------------------------------------------


def test_review_accepts_a_good_order():
    assert rules.review(new_order(), now=T0, served_categories={"hvac", "plumbing"}) is None


def test_review_rejects_an_unserved_category():
    reason = rules.review(new_order(category="electrical"), now=T0, served_categories=["hvac"])
    assert reason is not None
    assert "electrical" in reason


def test_review_rejects_a_window_that_has_already_ended():
    window = TimeWindow(start=T0 - timedelta(hours=2), end=T0 - timedelta(hours=1))
    order = new_order(now=T0 - timedelta(days=1), requested_window=window)
    reason = rules.review(order, now=T0, served_categories={"hvac"})
    assert reason == "The requested window has already ended."


def test_review_accepts_a_window_still_open():
    window = TimeWindow(start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=1))
    order = new_order(requested_window=window)
    assert rules.review(order, now=T0, served_categories={"hvac"}) is None


def test_review_rejects_an_urgent_order_requested_after_its_sla():
    window = TimeWindow(start=T0 + timedelta(hours=5), end=T0 + timedelta(hours=6))
    order = new_order(priority="urgent", requested_window=window)
    reason = rules.review(order, now=T0, served_categories={"hvac"})
    assert reason is not None
    assert "urgent" in reason


# -- rank_teams --------------------------------------------------------------------------------


def test_rank_teams_puts_the_least_loaded_share_first():
    teams = [
        TeamCandidate(id="big", capacity=10, load=5),  # 50 %
        TeamCandidate(id="small", capacity=2, load=0),  # 0 %
        TeamCandidate(id="mid", capacity=4, load=1),  # 25 %
    ]
    assert [t.id for t in rules.rank_teams(teams)] == ["small", "mid", "big"]


def test_rank_teams_ranks_by_share_not_by_absolute_load():
    teams = [
        TeamCandidate(id="a", capacity=2, load=1),  # 1 order, 50 %
        TeamCandidate(id="b", capacity=10, load=3),  # 3 orders, 30 %
    ]
    assert [t.id for t in rules.rank_teams(teams)] == ["b", "a"]


def test_rank_teams_breaks_ties_by_load_then_id():
    teams = [
        TeamCandidate(id="z", capacity=4, load=2),
        TeamCandidate(id="y", capacity=2, load=1),
        TeamCandidate(id="x", capacity=4, load=2),
    ]
    assert [t.id for t in rules.rank_teams(teams)] == ["y", "x", "z"]


def test_rank_teams_drops_full_and_zero_capacity_teams():
    teams = [
        TeamCandidate(id="full", capacity=3, load=3),
        TeamCandidate(id="over", capacity=1, load=2),
        TeamCandidate(id="none", capacity=0, load=0),
        TeamCandidate(id="open", capacity=3, load=2),
    ]
    assert [t.id for t in rules.rank_teams(teams)] == ["open"]


def test_rank_teams_of_no_candidates_is_empty():
    assert rules.rank_teams([]) == []


# -- corrections ---------------------------------------------------------------------------


def test_an_edit_bumps_the_version_and_names_what_changed():
    order = new_order()
    staff = Actor.staff("dispatcher")
    edited, event = rules.edit(
        order,
        {"title": "New title", "site": order.site},
        actor=staff,
        now=T0 + timedelta(minutes=5),
    )
    assert (edited.title, edited.version, edited.status) == ("New title", 2, order.status)
    assert event.type == "order.updated" and event.from_status == event.to_status == order.status
    assert edited.history[-1].reason == "changed title"
    assert edited.history[-1].actor == staff


def test_an_edit_is_validated_like_a_new_order():
    with pytest.raises(ValidationError) as caught:
        rules.edit(new_order(), {"title": " ", "site": "x" * 400}, actor=Actor.staff("s"), now=T0)
    assert set(caught.value.errors) == {"title", "site"}


@pytest.mark.parametrize("changes", [{"category": "plumbing"}, {"external_reference": "X-1"}, {}])
def test_only_details_can_be_edited_and_something_must_change(changes):
    with pytest.raises(ValidationError):
        rules.edit(new_order(), changes, actor=Actor.staff("s"), now=T0)


def test_a_finished_order_cannot_be_edited():
    cancelled, _ = rules.move(new_order(), "cancelled", actor=Actor.staff("s"), now=T0)
    with pytest.raises(ValidationError) as caught:
        rules.edit(cancelled, {"title": "Late"}, actor=Actor.staff("s"), now=T0)
    assert "status" in caught.value.errors


def test_a_new_priority_moves_the_sla_of_an_accepted_order():
    order = new_order(priority="low")
    accepted, _ = rules.move(order, "accepted", actor=Actor.system("w"), now=T0)
    edited, _ = rules.edit(accepted, {"priority": Priority.URGENT}, actor=Actor.staff("s"), now=T0)
    assert edited.sla_due_at == order.created_at + SLA_BY_PRIORITY[Priority.URGENT]
