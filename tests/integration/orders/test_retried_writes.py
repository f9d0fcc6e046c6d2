"""Writes whose answer is lost: DynamoDB stored the first try, the client saw a read timeout
and the SDK sent it again. The retry must find its own first try and answer as a success,
never as a conflict with itself (seen as 409 for a create, 412 for a move, when the emulator
was paused or the table slow)."""

from __future__ import annotations

import json
import uuid

import pytest

from orders.domain import rules
from orders.domain.errors import OrderAlreadyExists
from orders.domain.model import Actor
from orders.domain.workflow import Status
from orders.events.contract import to_message
from orders.repository.dynamodb import DynamoOrderRepository
from tests.integration.factories import EXAMPLE, moved, new_order
from tests.lost_answers import answers_lost


@pytest.fixture
def repo(aws):
    return DynamoOrderRepository(aws.dynamodb, aws.resources.table, cursor_secret=b"s")


def test_a_create_whose_answer_was_lost_is_stored_once_and_succeeds(repo, aws):
    order, _, message = new_order()
    with answers_lost(aws.dynamodb, "PutItem") as lost:
        repo.add(order, message)
    assert lost.dropped == [200] and lost.sent == 2  # stored, then retried by botocore
    assert repo.get(order.id) == order


def test_a_move_whose_answer_was_lost_succeeds(repo, aws):
    order, _, message = new_order()
    repo.add(order, message)
    accepted, _, m1 = moved(order, Status.ACCEPTED)
    with answers_lost(aws.dynamodb, "UpdateItem") as lost:
        repo.save_move(accepted, m1, expected_status="received", expected_version=1)
    assert lost.dropped == [200] and lost.sent == 2
    stored = repo.get(order.id)
    assert (stored.status, stored.version, len(stored.history)) == (Status.ACCEPTED, 2, 2)


@pytest.mark.parametrize("write", ["PutItem", "UpdateItem"])  # the note's, then the order's
def test_a_note_whose_write_lost_its_answer_succeeds(repo, aws, write):
    order, _, message = new_order()
    repo.add(order, message)
    changed, event, note = rules.add_note(
        order,
        "Gate code 1234",
        actor=Actor.integrator("acme"),
        author_name="Acme",
        now=order.updated_at,
    )
    with answers_lost(aws.dynamodb, write) as lost:
        repo.save_move(
            changed, to_message(event), expected_status="received", expected_version=1, adds=[note]
        )
    assert lost.dropped == [200] and lost.sent == 2
    assert [n.text for n in repo.notes(order.id)] == ["Gate code 1234"]
    assert repo.get(order.id).version == 2


def test_another_write_meeting_the_stored_order_is_still_a_conflict(repo, aws):
    """The retry is recognised by its own event id only: a different create of the same id
    is refused as before."""
    order, _, message = new_order()
    repo.add(order, message)
    _, _, other = new_order()
    with pytest.raises(OrderAlreadyExists):
        repo.add(order, other)


@pytest.mark.django_db
def test_the_api_answers_201_for_a_create_whose_writes_lost_their_answers(api, aws):
    """Through the API with an Idempotency-Key: the key's claim and the order's write both
    lose their first answer. The client gets 201 (not 409) and a replay gives the same."""
    from portal import container

    body = {**EXAMPLE, "external_reference": f"WO-{uuid.uuid4().hex[:8]}"}
    headers = {"HTTP_IDEMPOTENCY_KEY": f"k-{uuid.uuid4().hex}"}
    with answers_lost(container.client("dynamodb"), "PutItem", times=2) as lost:
        response = api.post(
            "/v1/orders", data=json.dumps(body), content_type="application/json", **headers
        )
    assert lost.dropped == [200, 200]
    assert response.status_code == 201, response.content
    replay = api.post(
        "/v1/orders", data=json.dumps(body), content_type="application/json", **headers
    )
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == response.json()["id"]


@pytest.mark.django_db
@pytest.mark.parametrize("write", ["PutItem", "UpdateItem"])  # the note's, then the order's
def test_the_api_answers_201_for_a_note_whose_write_lost_its_answer(api, aws, write):
    from portal import container

    order = api.post("/v1/orders", data=json.dumps(EXAMPLE), content_type="application/json")
    order_id = order.json()["id"]
    with answers_lost(container.client("dynamodb"), write) as lost:
        response = api.post(
            f"/v1/orders/{order_id}/notes",
            data=json.dumps({"text": "Ring twice"}),
            content_type="application/json",
            HTTP_IF_MATCH='"1"',
        )
    assert lost.dropped == [200]
    assert response.status_code == 201, response.content
    notes = api.get(f"/v1/orders/{order_id}/notes").json()
    assert [n["text"] for n in notes["results"]] == ["Ring twice"]
