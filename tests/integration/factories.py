"""Real domain objects for the integration tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from orders.domain import rules
from orders.domain.model import Actor, Attachment, Order, OrderEvent, Visibility
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


def attachment_for(order: Order, attachment_id: str | None = None) -> Attachment:
    """A public photo an integrator attached a minute after the order's last change."""
    attachment_id = attachment_id or str(uuid.uuid4())
    return Attachment(
        id=attachment_id,
        order_id=order.id,
        key=f"attachments/{order.id}/{attachment_id}/meter.png",
        filename="meter.png",
        content_type="image/png",
        size=1234,
        visibility=Visibility.PUBLIC,
        author=Actor.integrator("acme"),
        author_name="Acme",
        at=order.updated_at + timedelta(minutes=1),
    )
