"""A genuine event agrees with its order as DynamoDB stores it, whatever the order holds:
the workers' forgery check must never dead-letter a real event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orders.domain.model import Actor, Contact, TimeWindow
from orders.domain.rules import OrderInput
from orders.events.contract import check_against_order, parse_event
from portal.container import order_repository, order_services

STAFF = Actor.staff("alice")


def test_every_event_of_a_fully_filled_order_agrees_with_the_stored_order(aws, relay):
    start = datetime.now(UTC) + timedelta(days=1)
    service = order_services()
    order = service.intake.create_order(
        data=OrderInput(
            title="Réparer la chaudière ☃",
            category="hvac",
            priority="urgent",
            site="12 High St",
            external_reference=None,
            description="",
            contact=Contact(name="Bo", phone="", email=""),
            requested_window=TimeWindow(start=start, end=start + timedelta(hours=2)),
            metadata={"floor": 3, "ratio": 0.1, "tags": ["a", "b"], "nested": {"x": None}},
        ),
        integrator="acme",
        actor=Actor.integrator("acme"),
    )
    service.intake.update_order(
        order_id=order.id, changes={"priority": "high"}, expected_version=1, actor=STAFF
    )
    service.intake.transition_order(order_id=order.id, to="cancelled", actor=STAFF, reason="dup")
    relay.poll()

    stored = order_repository().get(order.id)
    events = [m for m in _published(aws) if m.order_id == order.id]
    assert len(events) == 3
    for event in events:
        check_against_order(event, stored)  # raises EventMismatch if it disagreed


def _published(aws):
    import json

    bodies = []
    for status in ("received", "cancelled"):
        bodies += [m["Body"] for m in aws.drain(aws.status_queue(status))]
    events = [parse_event(b) for b in bodies]
    return sorted(events, key=lambda e: json.loads(e.body)["data"]["order"]["version"])
