"""The work order and its history, as plain immutable values (no Django, no boto3)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from .workflow import ActorKind, Status

CATEGORIES: tuple[str, ...] = ("hvac", "electrical", "plumbing", "general")


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


#: How long after creation an order of each priority must be completed.
SLA_BY_PRIORITY: Mapping[Priority, timedelta] = {
    Priority.URGENT: timedelta(hours=4),
    Priority.HIGH: timedelta(hours=24),
    Priority.NORMAL: timedelta(hours=72),
    Priority.LOW: timedelta(days=7),
}


@dataclass(frozen=True)
class Actor:
    """Who made a change: ``kind`` decides what the workflow allows, ``id`` is for the audit."""

    kind: ActorKind
    id: str

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(ActorKind.SYSTEM, name)

    @classmethod
    def integrator(cls, integrator_id: str) -> Actor:
        return cls(ActorKind.INTEGRATOR, integrator_id)

    @classmethod
    def staff(cls, username: str) -> Actor:
        return cls(ActorKind.STAFF, username)

    def as_dict(self) -> dict[str, str]:
        return {"kind": str(self.kind), "id": self.id}


@dataclass(frozen=True)
class Contact:
    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class TimeWindow:
    start: datetime
    end: datetime


class Visibility(StrEnum):
    """Who may see a note or an attachment: ``internal`` ones are for staff only and never
    reach the integrator (API, event feed, webhooks)."""

    PUBLIC = "public"
    INTERNAL = "internal"


@dataclass(frozen=True)
class HistoryEntry:
    """One accepted change: the audit trail staff and integrators read."""

    event_id: str
    version: int
    from_status: Status | None  # None for creation
    to_status: Status
    actor: Actor
    reason: str | None
    at: datetime
    #: The event's type; ``None`` in entries written before types were recorded (then the
    #: move says it: see :func:`entry_event_type`).
    event_type: str | None = None
    #: About an internal note or attachment: shown to staff only.
    internal: bool = False


@dataclass(frozen=True)
class TechnicianRef:
    """The team member an order is assigned to, as the order keeps it: the display name is
    what integrators see."""

    id: str
    name: str


@dataclass(frozen=True)
class PlaceRef:
    """A site or an asset an order points at, as the order keeps it: the id, and the code and
    name as they were when the order was created. A snapshot, so that reading an order stays
    one read with no join; a later rename shows on new orders only (the order says where the
    work was, as it was then)."""

    id: str
    code: str
    name: str


@dataclass(frozen=True)
class MaintenanceRef:
    """What marks an order a maintenance plan created: the plan (its name as it was then)
    and the occurrence the order is for."""

    plan_id: str
    plan_name: str
    due_at: datetime


@dataclass(frozen=True)
class Visit:
    """A technician's visit to the site: the agreed window, then the times the technician
    checked in and out."""

    id: str
    start: datetime
    end: datetime
    technician: TechnicianRef
    scheduled_at: datetime
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    #: How many times the window was moved.
    reschedules: int = 0

    @property
    def open(self) -> bool:
        """Booked and not finished: the technician has not checked out yet."""
        return self.checked_out_at is None


@dataclass(frozen=True)
class Note:
    """A dated comment on an order's timeline, by an integrator or a staff member."""

    id: str
    order_id: str
    text: str
    visibility: Visibility
    author: Actor
    #: How the author is shown: the integrator's or staff member's name.
    author_name: str
    at: datetime
    #: The change that recorded it (its event id), stamped when stored: see :func:`recorded`.
    event_id: str = field(default="", compare=False)


@dataclass(frozen=True)
class Attachment:
    """A photo or document stored in the attachments bucket under ``key``."""

    id: str
    order_id: str
    key: str
    filename: str
    content_type: str
    size: int
    visibility: Visibility
    author: Actor
    author_name: str
    at: datetime
    #: The change that recorded it (its event id), stamped when stored: see :func:`recorded`.
    event_id: str = field(default="", compare=False)

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


@dataclass(frozen=True)
class Order:
    id: str
    integrator: str
    title: str
    category: str
    priority: Priority
    site: str
    status: Status
    version: int
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    external_reference: str | None = None
    description: str = ""
    contact: Contact | None = None
    requested_window: TimeWindow | None = None
    sla_due_at: datetime | None = None
    assigned_team: str | None = None
    rejection_reason: str | None = None
    cancellation_reason: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    sla_met: bool | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[HistoryEntry, ...] = ()
    technician: TechnicianRef | None = None
    visits: tuple[Visit, ...] = ()
    #: The integrator's site and asset the work is at (fixed at creation), if it named them.
    site_ref: PlaceRef | None = None
    asset_ref: PlaceRef | None = None
    #: Set on the orders a maintenance plan created.
    maintenance: MaintenanceRef | None = None

    def replace(self, **changes: Any) -> Order:
        return dataclasses.replace(self, **changes)

    @property
    def public_version(self) -> int:
        """The version integrators see (API, ETag, If-Match, their events): changes they
        cannot see (internal notes and attachments) are not counted, so such a change never
        makes their ``If-Match`` stale nor leaves a gap in the versions of their history.
        Staff and the workers use :attr:`version`, which counts every change."""
        if not self.history:
            return self.version
        return sum(1 for h in self.history if not h.internal)

    @property
    def public_updated_at(self) -> datetime:
        """When the order last changed in a way its integrator can see."""
        return next((h.at for h in reversed(self.history) if not h.internal), self.updated_at)

    def entry(self, event_id: str) -> HistoryEntry | None:
        """The history entry of the change with this event id, if the order holds it."""
        return next((h for h in self.history if h.event_id == event_id), None)

    def public_numbers(self) -> dict[str, int]:
        """Each history entry's version as integrators count (see :attr:`public_version`), by
        event id: an internal entry shares the number of the visible change before it."""
        numbers, count = {}, 0
        for h in self.history:
            count += not h.internal
            numbers[h.event_id] = count
        return numbers

    def public_number(self, entry: HistoryEntry) -> int:
        """``entry``'s version as integrators count (see :attr:`public_numbers`)."""
        try:
            return self.public_numbers()[entry.event_id]
        except KeyError:
            raise ValueError(
                f"event {entry.event_id} is not in the history of order {self.id}"
            ) from None

    @property
    def visit(self) -> Visit | None:
        """The latest visit (the one being planned or done), if any."""
        return self.visits[-1] if self.visits else None

    @property
    def hold(self) -> HistoryEntry | None:
        """While the order is on hold: the entry that put it there (its reason, since when,
        and the status it goes back to)."""
        if self.status is not Status.ON_HOLD:
            return None
        return next(
            (
                h
                for h in reversed(self.history)
                if h.to_status is Status.ON_HOLD and h.from_status is not Status.ON_HOLD
            ),
            None,
        )

    @property
    def resolution_time(self) -> timedelta | None:
        if self.completed_at is None:
            return None
        return self.completed_at - self.created_at


class EventType(StrEnum):
    CREATED = "order.created"
    STATUS_CHANGED = "order.status_changed"
    #: Details corrected (by staff), or the order given to another team or technician; the
    #: status is the same.
    UPDATED = "order.updated"
    NOTE_ADDED = "order.note_added"
    ATTACHMENT_ADDED = "order.attachment_added"
    VISIT_SCHEDULED = "order.visit_scheduled"
    VISIT_RESCHEDULED = "order.visit_rescheduled"
    #: The technician arrived; a scheduled order moves to in_progress with it.
    VISIT_CHECKED_IN = "order.visit_checked_in"
    VISIT_CHECKED_OUT = "order.visit_checked_out"


def entry_event_type(entry: HistoryEntry) -> str:
    """The type of the event a history entry records (older entries carry none: their move
    tells, as only those three types existed then)."""
    if entry.event_type:
        return entry.event_type
    if entry.from_status is None:
        return EventType.CREATED
    if entry.from_status == entry.to_status:
        return EventType.UPDATED
    return EventType.STATUS_CHANGED


@dataclass(frozen=True)
class OrderEvent:
    """A domain event: what happened to one order, with the order as it is afterwards."""

    id: str
    type: EventType
    order: Order
    from_status: Status | None
    to_status: Status
    actor: Actor
    reason: str | None
    occurred_at: datetime
    #: What the event is about besides the order: ``{"note": Note}``, ``{"attachment": …}``
    #: or ``{"visit": Visit}``.
    subject: Note | Attachment | Visit | None = None

    @property
    def internal(self) -> bool:
        """For staff only: never put in the integrator's feed nor sent to its webhooks."""
        return getattr(self.subject, "visibility", None) is Visibility.INTERNAL

    @property
    def history_entry(self) -> HistoryEntry:
        return HistoryEntry(
            event_id=self.id,
            version=self.order.version,
            from_status=self.from_status,
            to_status=self.to_status,
            actor=self.actor,
            reason=self.reason,
            at=self.occurred_at,
            event_type=str(self.type),
            internal=self.internal,
        )


Child = TypeVar("Child", Note, Attachment)


def recorded(order: Order, children: Iterable[Child]) -> list[Child]:
    """The notes or attachments the order holds: those whose change is in its history. One
    stored for a change that was then refused or never made (a crash between the two
    writes) is not the order's; those stored before changes were stamped all are."""
    changes = {entry.event_id for entry in order.history}
    return [child for child in children if not child.event_id or child.event_id in changes]


def new_event_id() -> str:
    return str(uuid.uuid4())


def new_order_id() -> str:
    return str(uuid.uuid4())


def new_id() -> str:
    """Ids of notes, attachments and visits."""
    return str(uuid.uuid4())


#: Namespace of the ids of orders that carry an integrator's external reference.
REFERENCE_NAMESPACE = uuid.UUID("6f1c5d2e-3b7a-4c1e-9a8d-2f4e6b8c0a13")


def reference_order_id(integrator: str, external_reference: str) -> str:
    """The id of the order an integrator created with this reference. Deriving the id makes
    the reference unique per integrator with no extra write: the order's own conditional put
    refuses a second one."""
    return str(uuid.uuid5(REFERENCE_NAMESPACE, f"{integrator}\n{external_reference}"))
