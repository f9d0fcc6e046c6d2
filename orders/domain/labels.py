"""The words people read for the lifecycle's values: statuses, move verbs, priorities, event
kinds and who acted. Screens show these, never the stored slug (``in_progress``,
``order.visit_checked_in``); the API keeps the slugs, which are its contract."""

from __future__ import annotations

from collections.abc import Mapping

from .model import CATEGORIES, Actor, EventType, Priority, Visibility
from .workflow import ActorKind, Status

STATUS_LABELS: Mapping[str, str] = {
    Status.RECEIVED: "Received",
    Status.ACCEPTED: "Accepted",
    Status.SCHEDULED: "Scheduled",
    Status.IN_PROGRESS: "In progress",
    Status.ON_HOLD: "On hold",
    Status.COMPLETED: "Completed",
    Status.CANCELLED: "Cancelled",
    Status.REJECTED: "Rejected",
}

#: The button that makes a move, by its target status: what the person does, not where it lands.
MOVE_VERBS: Mapping[str, str] = {
    Status.ACCEPTED: "Accept",
    Status.SCHEDULED: "Schedule",
    Status.IN_PROGRESS: "Start work",
    Status.ON_HOLD: "Put on hold",
    Status.COMPLETED: "Complete",
    Status.CANCELLED: "Cancel order",
    Status.REJECTED: "Reject order",
}

PRIORITY_LABELS: Mapping[str, str] = {
    Priority.LOW: "Low",
    Priority.NORMAL: "Normal",
    Priority.HIGH: "High",
    Priority.URGENT: "Urgent",
}

#: Categories as people write them ("HVAC" is an acronym; the rest read as words).
CATEGORY_LABELS: Mapping[str, str] = {
    **{category: category.capitalize() for category in CATEGORIES},
    "hvac": "HVAC",
}

EVENT_LABELS: Mapping[str, str] = {
    EventType.CREATED: "Created",
    EventType.STATUS_CHANGED: "Status changed",
    EventType.UPDATED: "Details changed",
    EventType.NOTE_ADDED: "Note added",
    EventType.ATTACHMENT_ADDED: "File attached",
    EventType.VISIT_SCHEDULED: "Visit booked",
    EventType.VISIT_RESCHEDULED: "Visit moved",
    EventType.VISIT_CHECKED_IN: "Checked in",
    EventType.VISIT_CHECKED_OUT: "Checked out",
}

ACTOR_LABELS: Mapping[str, str] = {
    ActorKind.SYSTEM: "the system",
    ActorKind.INTEGRATOR: "integrator",
    ActorKind.STAFF: "staff",
}

VISIBILITY_LABELS: Mapping[str, str] = {
    Visibility.PUBLIC: "shared with the integrator",
    Visibility.INTERNAL: "staff only",
}


def _humanised(value: str) -> str:
    """A readable fallback for a value no table names yet (a status added later)."""
    text = str(value).removeprefix("order.").replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:]


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(str(status), _humanised(status or ""))


def move_verb(to_status: str) -> str:
    return MOVE_VERBS.get(str(to_status), f"Move to {status_label(to_status).lower()}")


def priority_label(priority: str | None) -> str:
    return PRIORITY_LABELS.get(str(priority), _humanised(priority or ""))


def category_label(category: str | None) -> str:
    return CATEGORY_LABELS.get(str(category), _humanised(category or ""))


def event_label(event_type: str | None) -> str:
    """``order.visit_checked_in`` or ``visit_checked_in`` both read "Checked in"."""
    text = str(event_type or "")
    if not text.startswith("order.") and text:
        text = f"order.{text}"
    return EVENT_LABELS.get(text, _humanised(text))


def actor_label(kind: str | None) -> str:
    return ACTOR_LABELS.get(str(kind), _humanised(kind or ""))


def visibility_label(visibility: str | None) -> str:
    return VISIBILITY_LABELS.get(str(visibility), _humanised(visibility or ""))


def actor_name(actor: Actor | None) -> str:
    """Who made a change, as a sentence's subject: "admin (staff)", "the Received worker",
    "integrator acme"."""
    if actor is None:
        return "—"
    if actor.kind == ActorKind.SYSTEM:
        if actor.id.startswith("worker:"):
            return f"the {status_label(actor.id.removeprefix('worker:'))} worker"
        if actor.id == "backlog":
            return "the team assigner"
        return f"the system ({actor.id})"
    if actor.kind == ActorKind.INTEGRATOR:
        return f"integrator {actor.id}"
    return f"{actor.id} (staff)"
