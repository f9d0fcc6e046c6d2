"""Who may do what on a work order: holds, notes, technicians and visits, for each actor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orders.domain import rules
from orders.domain.errors import IllegalTransition, PermissionDenied, ValidationError
from orders.domain.model import Actor, EventType, TechnicianRef, TimeWindow, Visibility
from orders.domain.rules import OrderInput
from orders.domain.workflow import Status

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SYSTEM = Actor.system("worker:test")
STAFF = Actor.staff("alice")
INTEGRATOR = Actor.integrator("acme")
ANA = TechnicianRef("ana", "Ana García")
LATER = T0 + timedelta(minutes=5)
WINDOW = TimeWindow(T0 + timedelta(days=1), T0 + timedelta(days=1, hours=2))


def scheduled():
    order, _ = rules.create_order(
        OrderInput(title="Fix", category="hvac", site="Depot", priority="high"),
        order_id="o-1",
        integrator="acme",
        actor=INTEGRATOR,
        now=T0,
    )
    order, _ = rules.move(order, "accepted", actor=SYSTEM, now=T0)
    order, _ = rules.move(order, "scheduled", actor=SYSTEM, now=T0, team="crew")
    return order


def visited():
    order, _ = rules.assign_technician(scheduled(), ANA, actor=STAFF, now=LATER)
    order, _ = rules.schedule_visit(order, WINDOW, actor=STAFF, now=LATER)
    return order


@pytest.mark.parametrize("actor", [INTEGRATOR, SYSTEM])
def test_only_staff_put_an_order_on_hold(actor):
    with pytest.raises(IllegalTransition):
        rules.move(scheduled(), "on_hold", actor=actor, now=LATER, reason="parts")


def test_a_hold_needs_a_reason():
    with pytest.raises(ValidationError) as info:
        rules.move(scheduled(), "on_hold", actor=STAFF, now=LATER)
    assert "reason" in info.value.errors


def test_a_held_order_resumes_only_to_where_it_was():
    order = scheduled()
    started, _ = rules.move(order, "in_progress", actor=STAFF, now=LATER)
    held, event = rules.move(started, "on_hold", actor=STAFF, now=LATER, reason="access")
    assert held.hold.reason == "access" and held.hold.from_status is Status.IN_PROGRESS
    assert event.type is EventType.STATUS_CHANGED
    with pytest.raises(ValidationError):
        rules.move(held, "scheduled", actor=STAFF, now=LATER)
    with pytest.raises(IllegalTransition):
        rules.move(held, "in_progress", actor=INTEGRATOR, now=LATER)
    back, _ = rules.move(held, "in_progress", actor=STAFF, now=LATER)
    assert back.status is Status.IN_PROGRESS and back.hold is None
    assert back.started_at == started.started_at  # resuming is not starting again


def test_a_held_order_can_be_cancelled_by_its_integrator():
    held, _ = rules.move(scheduled(), "on_hold", actor=STAFF, now=LATER, reason="customer")
    cancelled, _ = rules.move(held, "cancelled", actor=INTEGRATOR, now=LATER)
    assert cancelled.status is Status.CANCELLED


@pytest.mark.parametrize(
    ("actor", "visibility", "allowed"),
    [
        (INTEGRATOR, None, True),
        (INTEGRATOR, "public", True),
        (INTEGRATOR, "internal", False),
        (STAFF, "public", True),
        (STAFF, "internal", True),
    ],
)
def test_who_may_add_which_notes(actor, visibility, allowed):
    order = scheduled()
    if not allowed:
        with pytest.raises(PermissionDenied):
            rules.add_note(
                order, "x", visibility=visibility, actor=actor, author_name="n", now=LATER
            )
        return
    changed, event, note = rules.add_note(
        order, "x", visibility=visibility, actor=actor, author_name="n", now=LATER
    )
    assert event.type is EventType.NOTE_ADDED and changed.version == order.version + 1
    assert event.internal == (note.visibility is Visibility.INTERNAL)
    assert changed.history[-1].internal == event.internal


@pytest.mark.parametrize("actor", [INTEGRATOR, SYSTEM])
def test_only_staff_assign_technicians_and_book_visits(actor):
    order = scheduled()
    with pytest.raises(PermissionDenied):
        rules.assign_technician(order, ANA, actor=actor, now=LATER)
    given, _ = rules.assign_technician(order, ANA, actor=STAFF, now=LATER)
    with pytest.raises(PermissionDenied):
        rules.schedule_visit(given, WINDOW, actor=actor, now=LATER)
    booked, _ = rules.schedule_visit(given, WINDOW, actor=STAFF, now=LATER)
    for action in (rules.check_in, rules.check_out):
        with pytest.raises(PermissionDenied):
            action(booked, actor=actor, now=LATER)
    with pytest.raises(PermissionDenied):
        rules.reschedule_visit(booked, WINDOW, actor=actor, now=LATER)


def test_a_visit_needs_a_technician_and_a_sensible_window():
    with pytest.raises(ValidationError) as info:
        rules.schedule_visit(scheduled(), WINDOW, actor=STAFF, now=LATER)
    assert "technician" in info.value.errors
    given, _ = rules.assign_technician(scheduled(), ANA, actor=STAFF, now=LATER)
    for window in (
        TimeWindow(WINDOW.end, WINDOW.start),
        TimeWindow(WINDOW.start, WINDOW.start + timedelta(hours=25)),
        TimeWindow(T0 - timedelta(hours=3), T0 - timedelta(hours=2)),
        TimeWindow(WINDOW.start.replace(tzinfo=None), WINDOW.end.replace(tzinfo=None)),
    ):
        with pytest.raises(ValidationError):
            rules.schedule_visit(given, window, actor=STAFF, now=LATER)


def test_a_visit_is_rescheduled_until_the_technician_checks_in():
    order = visited()
    moved = TimeWindow(WINDOW.start + timedelta(days=1), WINDOW.end + timedelta(days=1))
    rescheduled, event = rules.reschedule_visit(order, moved, actor=STAFF, now=LATER, reason="rain")
    assert event.type is EventType.VISIT_RESCHEDULED and event.reason == "rain"
    assert rescheduled.visit.start == moved.start and rescheduled.visit.reschedules == 1
    with pytest.raises(ValidationError):
        rules.reschedule_visit(rescheduled, moved, actor=STAFF, now=LATER)  # the same window
    with pytest.raises(ValidationError):
        rules.schedule_visit(rescheduled, moved, actor=STAFF, now=LATER)  # one open visit
    arrived, _ = rules.check_in(rescheduled, actor=STAFF, now=LATER)
    with pytest.raises(ValidationError):
        rules.reschedule_visit(arrived, WINDOW, actor=STAFF, now=LATER)


def test_check_in_starts_a_scheduled_order_and_completion_needs_a_check_out():
    order = visited()
    with pytest.raises(ValidationError):
        rules.check_out(order, actor=STAFF, now=LATER)  # not checked in yet
    arrived, event = rules.check_in(order, actor=STAFF, now=LATER)
    assert event.type is EventType.VISIT_CHECKED_IN
    assert (event.from_status, event.to_status) == (Status.SCHEDULED, Status.IN_PROGRESS)
    assert arrived.status is Status.IN_PROGRESS and arrived.started_at == LATER
    assert arrived.visit.checked_in_at == LATER
    with pytest.raises(ValidationError) as info:
        rules.move(arrived, "completed", actor=INTEGRATOR, now=LATER)
    assert "check out" in str(info.value)
    left, event = rules.check_out(arrived, actor=STAFF, now=LATER + timedelta(hours=1))
    assert event.type is EventType.VISIT_CHECKED_OUT and left.visit.checked_out_at
    done, _ = rules.move(left, "completed", actor=INTEGRATOR, now=LATER + timedelta(hours=1))
    assert done.status is Status.COMPLETED


def test_a_held_order_is_not_checked_in_to():
    held, _ = rules.move(visited(), "on_hold", actor=STAFF, now=LATER, reason="access")
    with pytest.raises(ValidationError):
        rules.check_in(held, actor=STAFF, now=LATER)


def test_a_new_team_takes_the_order_without_the_old_teams_technician_or_booked_visit():
    order = visited()
    moved, _ = rules.reassign(order, "other-crew", actor=STAFF, now=LATER)
    assert moved.technician is None and moved.visit is None
    arrived, _ = rules.check_in(order, actor=STAFF, now=LATER)
    with pytest.raises(ValidationError):
        rules.reassign(arrived, "other-crew", actor=STAFF, now=LATER)


def test_a_note_must_be_text():
    for text in ("", "   ", 5, "a\x00b", "x" * (rules.NOTE_MAX + 1)):
        with pytest.raises(ValidationError) as info:
            rules.add_note(scheduled(), text, actor=STAFF, author_name="A", now=LATER)
        assert "text" in info.value.errors


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("C:\\Users\\ana\\boiler.jpg", "boiler.jpg"),
        ("photos/2026/../boiler.jpg", "boiler.jpg"),
        ("  meter reading.pdf ", "meter reading.pdf"),
        ("\u0096\u0084", rules.UNNAMED_FILE),
        ("..", rules.UNNAMED_FILE),
        ("photos/", rules.UNNAMED_FILE),
    ],
)
def test_an_uploads_name_is_its_last_printable_path_part(given, kept):
    assert rules.clean_filename(given) == kept


@pytest.mark.parametrize("given", ["a\x00.jpg", 7, "x" * (rules.FILENAME_MAX + 1)])
def test_a_name_that_cannot_be_kept_is_refused(given):
    with pytest.raises(ValidationError) as refused:
        rules.clean_filename(given)
    assert "filename" in refused.value.errors


def test_the_work_offered_is_the_work_the_rules_accept():
    order = scheduled()
    assert rules.open_work(order) == {"hold", "technician"}
    order = visited()
    assert rules.open_work(order) == {"hold", "technician", "visit", "check_in"}
    held, _ = rules.move(order, "on_hold", actor=STAFF, now=LATER, reason="parts")
    assert rules.open_work(held) == {"resume", "technician", "visit"}
    arrived, _ = rules.check_in(order, actor=STAFF, now=LATER)
    assert rules.open_work(arrived) == {"hold", "check_out"}
    left, _ = rules.check_out(arrived, actor=STAFF, now=LATER)
    assert rules.open_work(left) == {"hold", "technician", "visit"}
    done, _ = rules.move(left, "completed", actor=INTEGRATOR, now=LATER)
    assert rules.open_work(done) == frozenset()


def test_the_upload_a_key_names_is_read_back_only_under_the_orders_uploads():
    from orders.attachments import upload_in_key, upload_prefix

    upload_id = "0123456789abcdef0123456789abcdef"
    assert upload_in_key("o-1", upload_prefix("o-1", upload_id) + "meter.png") == upload_id
    assert upload_in_key("o-2", upload_prefix("o-1", upload_id) + "meter.png") is None
    assert upload_in_key("o-1", f"attachments/o-1/{upload_id}/meter.png") is None
    assert upload_in_key("o-1", "uploads/o-1/not-an-id/meter.png") is None
