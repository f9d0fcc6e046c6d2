"""The event contract: the one place that knows what goes on the SNS topic.

Each message body is a CloudEvents 1.0 structured-mode JSON document carrying one domain
event; ``docs/events.md`` documents it for other subscribers. Message attributes carry what
the subscriptions' filter policies route on (``status``) plus ``event_type``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from orders.domain.model import EventType, Order, OrderEvent
from orders.domain.workflow import STATUSES

SPEC_VERSION = "1.0"
#: Bumped only for a breaking change (a field removed, renamed or retyped); added fields do
#: not bump it, so consumers must ignore fields they do not know.
EVENT_VERSION = "1"
EVENT_SOURCE = "urn:work-order-portal:orders"
DATA_SCHEMA = "urn:work-order-portal:schemas:order-event:1"
KNOWN_TYPES = frozenset(t.value for t in EventType)


class MalformedEvent(ValueError):
    """A message on a status queue that is not an order event we can act on."""


@dataclass(frozen=True)
class EventMessage:
    """An event ready to publish: exactly what SNS will carry, stored with the order first."""

    event_id: str
    order_id: str
    body: str
    attributes: dict[str, str]
    created_at: str
    #: Whose order it is: the event feed is kept per integrator.
    integrator: str = ""
    #: The AWS region whose table took the write ("" if unknown). With a global table each
    #: region's relay publishes only its own region's writes (docs/deploy.md, multi-region).
    region: str = ""

    @property
    def group_id(self) -> str:
        # FIFO ordering is per order: events of one order are delivered in order.
        return self.order_id


@dataclass(frozen=True)
class ReceivedEvent:
    """What a worker needs from a delivered event to decide whether it is still current."""

    id: str
    type: str
    order_id: str
    status: str
    order_version: int
    data: dict[str, Any]
    #: The event exactly as delivered: what webhooks POST on.
    body: str = ""


def isoformat(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def order_to_json(order: Order) -> dict[str, Any]:
    """The order as consumers see it (no history: that is the sequence of events itself)."""
    return {
        "id": order.id,
        "integrator": order.integrator,
        "external_reference": order.external_reference,
        "title": order.title,
        "description": order.description,
        "category": order.category,
        "priority": str(order.priority),
        "site": order.site,
        "contact": (
            {"name": order.contact.name, "phone": order.contact.phone, "email": order.contact.email}
            if order.contact
            else None
        ),
        "requested_window": (
            {
                "start": isoformat(order.requested_window.start),
                "end": isoformat(order.requested_window.end),
            }
            if order.requested_window
            else None
        ),
        "status": str(order.status),
        "version": order.version,
        "created_at": isoformat(order.created_at),
        "updated_at": isoformat(order.updated_at),
        "status_changed_at": isoformat(order.status_changed_at),
        "sla_due_at": isoformat(order.sla_due_at),
        "assigned_team": order.assigned_team,
        "rejection_reason": order.rejection_reason,
        "cancellation_reason": order.cancellation_reason,
        "started_at": isoformat(order.started_at),
        "completed_at": isoformat(order.completed_at),
        "sla_met": order.sla_met,
        "metadata": dict(order.metadata),
    }


def to_cloudevent(event: OrderEvent) -> dict[str, Any]:
    return {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": EVENT_SOURCE,
        "type": str(event.type),
        "subject": event.order.id,
        "time": isoformat(event.occurred_at),
        "datacontenttype": "application/json",
        "dataschema": DATA_SCHEMA,
        "eventversion": EVENT_VERSION,
        "data": {
            "order": order_to_json(event.order),
            "transition": {
                "from": str(event.from_status) if event.from_status else None,
                "to": str(event.to_status),
                "actor": event.actor.as_dict(),
                "reason": event.reason,
                "at": isoformat(event.occurred_at),
            },
        },
    }


def to_message(event: OrderEvent) -> EventMessage:
    body = json.dumps(to_cloudevent(event), separators=(",", ":"), sort_keys=True)
    return EventMessage(
        event_id=event.id,
        order_id=event.order.id,
        body=body,
        attributes={"status": str(event.to_status), "event_type": str(event.type)},
        created_at=isoformat(event.occurred_at) or "",
        integrator=event.order.integrator,
    )


def parse_event(body: str | bytes) -> ReceivedEvent:
    """Check a delivered body is one of our events; raise :class:`MalformedEvent` if not."""
    try:
        doc = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise MalformedEvent(f"body is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise MalformedEvent("body is not a JSON object")
    if doc.get("specversion") != SPEC_VERSION:
        raise MalformedEvent(
            f"specversion must be {SPEC_VERSION!r}, got {doc.get('specversion')!r}"
        )
    if doc.get("eventversion") != EVENT_VERSION:
        raise MalformedEvent(
            f"eventversion must be {EVENT_VERSION!r}, got {doc.get('eventversion')!r}"
        )
    if not isinstance(doc.get("type"), str) or doc["type"] not in KNOWN_TYPES:
        raise MalformedEvent(f"unknown event type {doc.get('type')!r}")
    data = doc.get("data")
    order = data.get("order") if isinstance(data, dict) else None
    if not isinstance(order, dict):
        raise MalformedEvent("data.order is missing")
    event_id, order_id = doc.get("id"), order.get("id")
    status, version = order.get("status"), order.get("version")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedEvent("id is missing")
    if not isinstance(order_id, str) or not order_id or doc.get("subject") != order_id:
        raise MalformedEvent("data.order.id is missing or does not match subject")
    if status not in STATUSES:
        raise MalformedEvent(f"data.order.status {status!r} is not a status")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MalformedEvent("data.order.version must be a positive integer")
    return ReceivedEvent(
        id=event_id,
        type=doc["type"],
        order_id=order_id,
        status=status,
        order_version=version,
        data=data,
        body=body.decode() if isinstance(body, bytes) else body,
    )
