"""Real domain objects for the integration tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from orders.domain import rules
from orders.domain.model import Actor, Order, OrderEvent
from orders.domain.rules import OrderInput
from orders.events.contract import EventMessage, to_message

EXAMPLE = {
    "title": "Replace HVAC filter",
    "category": "hvac",
    "priority": "high",
    "site": "Store 12, 5th Ave",
    "external_reference": "WO-1001",
}


def new_order(
    *, integrator: str = "acme", created_at: datetime | None = None, **fields
) -> tuple[Order, OrderEvent, EventMessage]:
    data = {"title": "Fix the lights", "category": "electrical", "site": "Depot 3", **fields}
    order, event = rules.create_order(
        OrderInput(**data),
        order_id=str(uuid.uuid4()),
        integrator=integrator,
        actor=Actor.integrator(integrator),
        now=created_at or datetime.now(UTC),
    )
    return order, event, to_message(event)


def moved(order: Order, to: str, *, actor: Actor | None = None, minutes: int = 1, **kwargs):
    now = order.updated_at + timedelta(minutes=minutes)
    new, event = rules.move(
        order, to, actor=actor or Actor.system("worker:test"), now=now, **kwargs
    )
    return new, event, to_message(event)
