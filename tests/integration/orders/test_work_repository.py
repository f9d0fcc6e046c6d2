"""Notes, attachments, technicians and visits in storage: the same contract for the DynamoDB
repository (moto over HTTP) and the in-memory one the unit tests use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orders.domain import rules
from orders.domain.errors import ConcurrencyConflict
from orders.domain.model import Actor, TechnicianRef, TimeWindow
from orders.domain.workflow import Status
from orders.events.contract import to_message
from orders.repository.dynamodb import DynamoOrderRepository
from orders.repository.memory import InMemoryOrderRepository
from orders.repository.stream_images import event_from_image
from tests.integration.factories import attachment_for, moved, new_order

STAFF = Actor.staff("alice")
TECH = TechnicianRef("tech-ana", "Ana García")


@pytest.fixture(params=["dynamodb", "memory"])
def repo(request):
    if request.param == "memory":
        return InMemoryOrderRepository()
    aws = request.getfixturevalue("aws")
    return DynamoOrderRepository(aws.dynamodb, aws.resources.table, cursor_secret=b"secret")


def scheduled_in(repo, **fields):
    order, _, message = new_order(category="hvac", **fields)
    repo.add(order, message)
    for to, kwargs in ((Status.ACCEPTED, {}), (Status.SCHEDULED, {"team": "hvac-crew"})):
        order, _, message = _store(repo, order, moved(order, to, **kwargs))
    return order


def _store(repo, before, change, adds=()):
    after, event, message = change
    repo.save_move(
        after,
        message,
        expected_status=before.status,
        expected_version=before.version,
        adds=adds,
    )
    return after, event, message


def add_note(repo, order, text: str, **fields):
    """Store a note on ``order`` with the change that announces it; the order after it."""
    changed, event, note = rules.add_note(
        order,
        text,
        actor=STAFF,
        author_name="Alice",
        now=order.updated_at + timedelta(minutes=1),
        **fields,
    )
    repo.save_move(
        changed,
        to_message(event),
        expected_status=order.status,
        expected_version=order.version,
        adds=[note],
    )
    return changed, note


def test_a_note_is_stored_with_the_change_that_announces_it(repo):
    order = scheduled_in(repo)
    _, note = add_note(repo, order, "Gate code 4411", visibility="internal")
    assert repo.notes(order.id) == [note]
    stored = repo.get(order.id)
    assert stored.version == order.version + 1
    assert stored.history[-1].event_type == "order.note_added"
    assert stored.history[-1].internal is True


def test_a_stale_note_stores_neither_the_note_nor_the_change(repo):
    order = scheduled_in(repo)
    changed, event, note = rules.add_note(
        order, "late", actor=STAFF, author_name="Alice", now=order.updated_at
    )
    with pytest.raises(ConcurrencyConflict):
        repo.save_move(
            changed,
            to_message(event),
            expected_status=order.status,
            expected_version=order.version - 1,
            adds=[note],
        )
    assert repo.notes(order.id) == []
    assert repo.get(order.id).version == order.version


def test_notes_come_back_oldest_first(repo):
    order = scheduled_in(repo)
    texts = []
    for minute in range(3):
        order, note = add_note(repo, order, f"note {minute}")
        texts.append(note.text)
    assert [n.text for n in repo.notes(order.id)] == texts


def test_an_attachment_is_recorded_once(repo):
    order = scheduled_in(repo)
    attachment = attachment_for(order)
    changed, event = rules.add_attachment(order, attachment, now=attachment.at)
    repo.save_move(
        changed,
        to_message(event),
        expected_status=order.status,
        expected_version=order.version,
        adds=[attachment],
    )
    assert repo.attachment(order.id, attachment.id) == attachment
    assert repo.attachments(order.id) == [attachment]
    again, event = rules.add_attachment(changed, attachment, now=attachment.at)
    with pytest.raises(ConcurrencyConflict):
        repo.save_move(
            again,
            to_message(event),
            expected_status=changed.status,
            expected_version=changed.version,
            adds=[attachment],
        )
    assert repo.attachments(order.id) == [attachment]
    assert repo.get(order.id).version == changed.version


def test_technician_and_visits_round_trip_and_are_found_by_technician_and_day(repo):
    order = scheduled_in(repo)
    now = order.updated_at + timedelta(minutes=1)
    given, event = rules.assign_technician(order, TECH, actor=STAFF, now=now)
    order, _, _ = _store(repo, order, (given, event, to_message(event)))
    start = datetime(2030, 5, 6, 9, 0, tzinfo=UTC)
    window = TimeWindow(start, start + timedelta(hours=2))
    visited, event = rules.schedule_visit(order, window, actor=STAFF, now=now)
    repo.save_move(
        visited, to_message(event), expected_status=order.status, expected_version=order.version
    )
    stored = repo.get(order.id)
    assert stored == visited
    assert stored.technician == TECH and stored.visit.start == start

    other = scheduled_in(repo)
    assert [o.id for o in repo.list_by_technician(TECH.id)] == [order.id]
    found = repo.visits_between(start - timedelta(hours=1), start + timedelta(hours=1))
    assert [o.id for o in found] == [order.id]
    assert repo.visits_between(start + timedelta(hours=1), start + timedelta(days=1)) == []
    assert other.id not in {o.id for o in repo.list_by_technician(TECH.id)}


def test_a_note_item_carries_no_event_for_the_relay():
    order, _, _ = new_order()
    changed, _, note = rules.add_note(
        order, "hi", actor=STAFF, author_name="A", now=order.created_at
    )
    from orders.repository.items import child_to_item

    assert event_from_image(child_to_item(note)) is None
