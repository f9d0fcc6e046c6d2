"""The event contract: the one place that knows what goes on the SNS topic.

Each message body is a CloudEvents 1.0 structured-mode JSON document carrying one domain
event; ``docs/events.md`` documents it for other subscribers. Message attributes carry what
the subscriptions' filter policies route on (``status``) plus ``event_type``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kernel.clock import isoformat
from orders.domain.model import (
    Actor,
    Attachment,
    EventType,
    HistoryEntry,
    MaintenanceRef,
    Note,
    Order,
    OrderEvent,
    PlaceRef,
    Visibility,
    Visit,
    entry_event_type,
)
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


class EventMismatch(ValueError):
    """A well-formed event that the stored order contradicts: not one this order committed
    (forged, or altered on the way). Workers dead-letter it and tell nobody."""


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
    #: What the event is about besides the order (``subject_to_json``: ``{}``, a note, an
    #: attachment or a visit), as ``message_of`` put it in the body: what a stored order does
    #: not hold, so the repository keeps it without reading the body again. Part of the body.
    subject: dict[str, Any] = field(default_factory=dict, compare=False)

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
    #: Whose order the event says it is; workers trust the stored order's, after checking
    #: that the two agree (:func:`check_against_order`).
    integrator: str = ""
    #: About an internal note or attachment: staff only, never sent to the integrator.
    internal: bool = False


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
        "site_ref": place_to_json(order.site_ref),
        "asset_ref": place_to_json(order.asset_ref),
        "maintenance": maintenance_to_json(order.maintenance),
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
        # As integrators count: staff-only changes do not move it (Order.public_version).
        "version": order.public_version,
        "created_at": isoformat(order.created_at),
        "updated_at": isoformat(order.public_updated_at),
        "status_changed_at": isoformat(order.status_changed_at),
        "sla_due_at": isoformat(order.sla_due_at),
        "assigned_team": order.assigned_team,
        "rejection_reason": order.rejection_reason,
        "cancellation_reason": order.cancellation_reason,
        "started_at": isoformat(order.started_at),
        "completed_at": isoformat(order.completed_at),
        "sla_met": order.sla_met,
        "metadata": dict(order.metadata),
        "technician": technician_to_json(order.technician),
        "visit": visit_to_json(order.visit),
        "hold": hold_to_json(order),
    }


def place_to_json(place: PlaceRef | None) -> dict[str, str] | None:
    """A site or an asset as the order keeps it: its id, code and name when it was created."""
    return {"id": place.id, "code": place.code, "name": place.name} if place else None


def maintenance_to_json(plan: MaintenanceRef | None) -> dict[str, str] | None:
    if plan is None:
        return None
    return {"plan_id": plan.plan_id, "plan_name": plan.plan_name, "due_at": isoformat(plan.due_at)}


def technician_to_json(technician) -> dict[str, str] | None:
    return {"id": technician.id, "name": technician.name} if technician else None


def visit_to_json(visit: Visit | None) -> dict[str, Any] | None:
    if visit is None:
        return None
    return {
        "id": visit.id,
        "start": isoformat(visit.start),
        "end": isoformat(visit.end),
        "technician": technician_to_json(visit.technician),
        "scheduled_at": isoformat(visit.scheduled_at),
        "checked_in_at": isoformat(visit.checked_in_at),
        "checked_out_at": isoformat(visit.checked_out_at),
        "reschedules": visit.reschedules,
    }


def hold_to_json(order: Order) -> dict[str, Any] | None:
    held = order.hold
    if held is None:
        return None
    return {
        "reason": held.reason,
        "since": isoformat(held.at),
        "resume_to": str(held.from_status) if held.from_status else None,
    }


def author_to_json(actor: Actor, name: str) -> dict[str, str]:
    return {"kind": str(actor.kind), "id": actor.id, "name": name}


def note_to_json(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "text": note.text,
        "visibility": str(note.visibility),
        "author": author_to_json(note.author, note.author_name),
        "at": isoformat(note.at),
    }


def attachment_to_json(attachment: Attachment) -> dict[str, Any]:
    """An attachment as events carry it: what it is, not where it is (downloads are
    presigned, short-lived links the API hands out)."""
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "visibility": str(attachment.visibility),
        "author": author_to_json(attachment.author, attachment.author_name),
        "at": isoformat(attachment.at),
    }


def subject_to_json(event: OrderEvent) -> dict[str, Any]:
    """The ``data`` key naming what the event is about besides the order, if anything."""
    subject = event.subject
    if isinstance(subject, Note):
        return {"note": note_to_json(subject)}
    if isinstance(subject, Attachment):
        return {"attachment": attachment_to_json(subject)}
    if isinstance(subject, Visit):
        return {"visit": visit_to_json(subject)}
    return {}


def to_cloudevent(event: OrderEvent) -> dict[str, Any]:
    return cloudevent_of(event.order, event.history_entry, subject_to_json(event))


def cloudevent_of(order: Order, entry: HistoryEntry, subject: dict[str, Any]) -> dict[str, Any]:
    """The event of one change, from the order it left, the change's history entry and what
    the event is about besides the order (``subject_to_json``): all an event carries, so
    that a stored change can be published again without keeping its body."""
    return {
        "specversion": SPEC_VERSION,
        "id": entry.event_id,
        "source": EVENT_SOURCE,
        "type": str(entry_event_type(entry)),
        "subject": order.id,
        "time": isoformat(entry.at),
        "datacontenttype": "application/json",
        "dataschema": DATA_SCHEMA,
        "eventversion": EVENT_VERSION,
        "visibility": str(Visibility.INTERNAL if entry.internal else Visibility.PUBLIC),
        "data": {
            "order": order_to_json(order),
            "transition": {
                "from": str(entry.from_status) if entry.from_status else None,
                "to": str(entry.to_status),
                "actor": entry.actor.as_dict(),
                "reason": entry.reason,
                "at": isoformat(entry.at),
            },
            **subject,
        },
    }


def visibility_of(event: OrderEvent) -> Visibility:
    return Visibility.INTERNAL if event.internal else Visibility.PUBLIC


def is_internal(message: EventMessage) -> bool:
    """An event for staff only: not added to the integrator's feed (the relay asks)."""
    return message.attributes.get("visibility") == Visibility.INTERNAL


def to_message(event: OrderEvent) -> EventMessage:
    return message_of(event.order, event.history_entry, subject_to_json(event))


def message_of(order: Order, entry: HistoryEntry, subject: dict[str, Any]) -> EventMessage:
    """The message of one change (:func:`cloudevent_of`), byte for byte the same whether
    built when the change is made or again from the stored order by the relay."""
    document = cloudevent_of(order, entry, subject)
    return EventMessage(
        event_id=entry.event_id,
        order_id=order.id,
        body=json.dumps(document, separators=(",", ":"), sort_keys=True),
        attributes={
            "status": str(entry.to_status),
            "event_type": document["type"],
            "visibility": document["visibility"],
        },
        created_at=isoformat(entry.at) or "",
        integrator=order.integrator,
        subject=subject,
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
    integrator = order.get("integrator")
    if not isinstance(integrator, str) or not integrator:
        raise MalformedEvent("data.order.integrator is missing")
    _check_transition(data.get("transition"), status)
    return ReceivedEvent(
        id=event_id,
        type=doc["type"],
        order_id=order_id,
        status=status,
        order_version=version,
        data=data,
        body=body.decode() if isinstance(body, bytes) else body,
        integrator=integrator,
        # Anything but an explicit "public" is kept from the integrator.
        internal=doc.get("visibility", Visibility.PUBLIC) != Visibility.PUBLIC,
    )


def _check_transition(transition: Any, status: str) -> None:
    if not isinstance(transition, dict):
        raise MalformedEvent("data.transition is missing")
    if transition.get("to") != status:
        raise MalformedEvent("data.transition.to does not match data.order.status")
    if "from" not in transition or not (
        transition["from"] is None or transition["from"] in STATUSES
    ):
        raise MalformedEvent("data.transition.from must be a status or null")
    actor = transition.get("actor")
    if not (
        isinstance(actor, dict)
        and isinstance(actor.get("kind"), str)
        and isinstance(actor.get("id"), str)
    ):
        raise MalformedEvent("data.transition.actor must have a kind and an id")


def check_against_order(event: ReceivedEvent, order: Order) -> None:
    """Raise :class:`EventMismatch` unless ``event`` is one that the stored ``order``
    committed: the same order and integrator, an entry of its history with the event's id,
    version, move, actor and type, and, for the order's current version, the very snapshot
    stored. Anyone able to publish to the topic could otherwise make the workers act, and
    notify an integrator, on an event they made up."""
    if event.order_id != order.id:
        raise EventMismatch(f"event is for order {event.order_id}, not {order.id}")
    if event.integrator != order.integrator:
        raise EventMismatch(
            f"data.order.integrator {event.integrator!r} does not match the stored order's"
        )
    entry = order.entry(event.id)
    if entry is None:
        raise EventMismatch(f"event {event.id} is not in the history of order {order.id}")
    transition = event.data["transition"]
    # data.order.version counts as integrators do (Order.public_version); events published
    # before it did carry the order's own version.
    if (
        event.order_version not in (order.public_number(entry), entry.version)
        or entry.to_status != event.status
        or entry.from_status != transition["from"]
        or entry.actor.as_dict() != transition["actor"]
        or entry_event_type(entry) != event.type
        or entry.internal != event.internal
    ):
        raise EventMismatch(
            f"event {event.id} does not match version {entry.version} in the order's history"
        )
    if entry.version == order.version:  # the order's latest change: its snapshot too
        stored = order_to_json(order)
        snapshot = event.data["order"]
        changed = sorted(name for name, value in stored.items() if snapshot.get(name) != value)
        if changed:
            raise EventMismatch(
                f"data.order differs from the stored order at version {order.version}: "
                + ", ".join(changed)
            )
