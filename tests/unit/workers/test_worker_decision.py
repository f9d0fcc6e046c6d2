"""The status worker's decision for each delivery: handled, retried later, or dead-lettered.

A message that can never succeed (not an event, the wrong queue, an order that does not exist,
an event the stored order never committed) goes to the dead-letter queue on its first
delivery; any other failure is retried (``Reject``: the transport hides the message for its
backoff) until the deliveries run out, and then dead-lettered with the last error.
"""

from __future__ import annotations

import pytest
from celery.exceptions import Reject

from orders.domain.errors import OrderNotFound
from orders.events.contract import EventMismatch, to_message
from tests.unit.orders.test_contract import accepted_event
from workers import tasks

MAX = 5


class FakeServices:
    """Stands in for the use cases: the pipeline fails with ``failure`` (as when the stored
    order is read), or handles the event and tells its integrator."""

    def __init__(self) -> None:
        self.failure: Exception | None = None
        self.notified: list[str] = []
        self.pipeline = self

    def handle(self, event):
        if self.failure is not None:
            raise self.failure
        self.notified.append(event.id)
        return accepted_event().order


@pytest.fixture
def worker(monkeypatch, settings):
    """``handle_delivery`` with a fake service and the dead-letter queue recorded."""
    settings.ORDERS_DLQ_MAX_RECEIVE_COUNT = MAX
    service = FakeServices()
    dead: list[dict] = []
    monkeypatch.setattr(tasks, "order_services", lambda: service)
    monkeypatch.setattr(
        tasks,
        "dead_letter",
        lambda status, body, delivery, *, reason, event_type=None: dead.append(
            {"status": status, "reason": reason, "event_type": event_type}
        ),
    )

    def deliver(body: str, *, receive_count: int = 1, status: str = "accepted") -> str:
        delivery = {"queue": f"q-{status}", "message_id": "m-1", "receive_count": receive_count}
        return tasks.handle_delivery(status, body, delivery)

    deliver.service = service
    deliver.dead = dead
    return deliver


def body() -> str:
    return to_message(accepted_event()).body


def test_a_good_event_is_handled_and_its_integrator_told(worker):
    assert worker(body()) == "handled"
    assert worker.service.notified and worker.dead == []


@pytest.mark.parametrize("receive_count", range(1, MAX))
def test_a_transient_failure_is_retried_while_deliveries_remain(worker, receive_count):
    worker.service.failure = ConnectionError("DynamoDB throttled")
    with pytest.raises(Reject):
        worker(body(), receive_count=receive_count)
    assert worker.dead == [] and worker.service.notified == []


def test_the_last_delivery_of_a_transient_failure_is_dead_lettered_with_the_error(worker):
    worker.service.failure = ConnectionError("DynamoDB throttled")
    assert worker(body(), receive_count=MAX) == "dead-lettered"
    [dead] = worker.dead
    assert dead["reason"] == f"failed {MAX} times, last: ConnectionError: DynamoDB throttled"
    assert dead["event_type"] == "order.status_changed"


@pytest.mark.parametrize(
    ("message", "failure", "reason"),
    [
        ("not json", None, "not a valid order event"),
        (None, OrderNotFound("order-1"), "order-1"),
        (None, EventMismatch("integrator 'evil' is not the order's"), "does not match"),
    ],
    ids=["malformed", "unknown-order", "forged"],
)
def test_a_message_that_can_never_succeed_is_dead_lettered_on_its_first_delivery(
    worker, message, failure, reason
):
    worker.service.failure = failure
    assert worker(message or body(), receive_count=1) == "dead-lettered"
    [dead] = worker.dead
    assert reason in dead["reason"]
    assert worker.service.notified == []


def test_an_event_on_another_status_queue_is_dead_lettered_at_once(worker):
    assert worker(body(), status="scheduled") == "dead-lettered"
    assert "on the 'scheduled' queue" in worker.dead[0]["reason"]
