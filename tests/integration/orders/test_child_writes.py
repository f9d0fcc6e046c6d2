"""A note or an attachment is stored first, then the order's change (two writes, not a
transaction that costs twice). Whatever fails in between, people only ever see the notes
and attachments whose change the order holds, and a refused change leaves nothing behind."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from orders.domain import rules
from orders.domain.errors import ConcurrencyConflict
from orders.domain.model import Actor, recorded
from orders.domain.sla import ALWAYS
from orders.events.contract import to_message
from orders.repository.dynamodb import DynamoOrderRepository
from orders.repository.items import child_to_item
from orders.selectors import OrderSelector
from tests.integration.factories import attachment_for, new_order

ACME = Actor.integrator("acme")


@pytest.fixture
def repo(aws):
    return DynamoOrderRepository(
        aws.dynamodb, aws.resources.table, cursor_secret=b"s", side_table=aws.resources.side_table
    )


def stored(repo):
    order, _, message = new_order()
    repo.add(order, message)
    return order


def save(repo, changed, event, child) -> None:
    """The change of a just-stored order (received, version 1) that adds ``child``."""
    repo.save_move(
        changed, to_message(event), expected_status="received", expected_version=1, adds=[child]
    )


def with_note(order, text: str):
    return rules.add_note(order, text, actor=ACME, author_name="Acme", now=order.updated_at)


def test_a_note_whose_change_is_refused_is_not_kept(repo, aws):
    order = stored(repo)
    first, event, note = with_note(order, "First")
    save(repo, first, event, note)
    late, late_event, late_note = with_note(order, "Written on an old version")
    with pytest.raises(ConcurrencyConflict):
        save(repo, late, late_event, late_note)
    assert [n.text for n in repo.notes(order.id)] == ["First"]  # the refused one deleted


def test_a_note_left_by_a_change_that_never_reached_the_order_is_not_shown(repo, aws):
    """The process died between the note's write and the order's."""
    order = stored(repo)
    changed, event, orphan = with_note(order, "Never committed")
    aws.dynamodb.put_item(
        TableName=aws.resources.side_table, Item=child_to_item(orphan, event_id=event.id)
    )
    assert [n.text for n in repo.notes(order.id)] == ["Never committed"]  # stored...
    assert recorded(repo.get(order.id), repo.notes(order.id)) == []  # ...but not the order's
    selector = OrderSelector(
        orders=repo, calendar=lambda team: ALWAYS, clock=lambda: order.updated_at
    )
    assert selector.notes(order.id) == [] and selector.notes(order.id, integrator="acme") == []
    kept, kept_event, note = with_note(order, "Committed")
    save(repo, kept, kept_event, note)
    assert [n.text for n in selector.notes(order.id)] == ["Committed"]


def test_an_attachment_id_a_dead_change_left_is_taken_over_once_stale(repo, aws):
    order = stored(repo)
    attachment = attachment_for(order, "upload-1")
    changed, event = rules.add_attachment(order, attachment, now=order.updated_at)
    orphan = child_to_item(attachment, event_id="a-change-that-died")
    aws.dynamodb.put_item(TableName=aws.resources.side_table, Item=orphan)
    with pytest.raises(ConcurrencyConflict):  # young: its change may still be in progress
        save(repo, changed, event, attachment)
    old = (order.updated_at - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    aws.dynamodb.put_item(
        TableName=aws.resources.side_table, Item={**orphan, "written_at": {"S": old}}
    )
    save(repo, changed, event, attachment)
    found = repo.attachment(order.id, "upload-1")
    assert found == attachment and found.event_id == event.id
    assert recorded(repo.get(order.id), [found]) == [found]
    assert replace(found, event_id="") == found  # the stamp is not part of what it is
