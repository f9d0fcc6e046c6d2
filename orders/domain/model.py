"""The work order and its history, as plain immutable values (no Django, no boto3)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

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


@dataclass(frozen=True)
class HistoryEntry:
    """One accepted move: the audit trail staff and integrators read."""

    event_id: str
    version: int
    from_status: Status | None  # None for creation
    to_status: Status
    actor: Actor
    reason: str | None
    at: datetime


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

    def replace(self, **changes: Any) -> Order:
        return dataclasses.replace(self, **changes)

    @property
    def resolution_time(self) -> timedelta | None:
        if self.completed_at is None:
            return None
        return self.completed_at - self.created_at


class EventType(StrEnum):
    CREATED = "order.created"
    STATUS_CHANGED = "order.status_changed"
    #: Details corrected (by staff); the status is the same.
    UPDATED = "order.updated"


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
        )


def new_event_id() -> str:
    return str(uuid.uuid4())


def new_order_id() -> str:
    return str(uuid.uuid4())


#: Namespace of the ids of orders that carry an integrator's external reference.
REFERENCE_NAMESPACE = uuid.UUID("6f1c5d2e-3b7a-4c1e-9a8d-2f4e6b8c0a13")


def reference_order_id(integrator: str, external_reference: str) -> str:
    """The id of the order an integrator created with this reference. Deriving the id makes
    the reference unique per integrator with no extra write: the order's own conditional put
    refuses a second one."""
    return str(uuid.uuid5(REFERENCE_NAMESPACE, f"{integrator}\n{external_reference}"))
