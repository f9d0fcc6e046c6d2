"""Business rules: what a valid order is, what each move changes, how teams are chosen.

The API, the admin and the workers all reach these through ``orders.services``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import ValidationError
from .model import (
    CATEGORIES,
    SLA_BY_PRIORITY,
    Actor,
    Contact,
    EventType,
    Order,
    OrderEvent,
    Priority,
    TimeWindow,
    new_event_id,
)
from .workflow import INITIAL_STATUS, REASON_REQUIRED, TERMINAL_STATUSES, Status, check_move

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
SITE_MAX = 300
REFERENCE_MAX = 100
REASON_MAX = 500
CONTACT_FIELD_MAX = 200
METADATA_MAX_BYTES = 4096
METADATA_MAX_KEYS = 50
#: Levels of objects and arrays in metadata, the metadata object itself being the first.
METADATA_MAX_DEPTH = 10
# \Z, not $: "$" also matches before a trailing newline.
REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*\Z")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
#: A Python string can hold surrogate code points (JSON's "\ud800" escape makes one); they are
#: not encodable as UTF-8, so DynamoDB, the event contract and every rendering of the order
#: would fail on them later. NUL is refused too: many consumers treat it as the end of text.
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be kept as text (``None`` if it can)."""
    found = _UNSTORABLE_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Must not contain NUL characters."
    return f"Must be valid Unicode text (unpaired surrogate U+{ord(found.group()):04X})."


@dataclass(frozen=True)
class OrderInput:
    """What a caller may say about a new order (everything else the system decides)."""

    title: str
    category: str
    priority: str = Priority.NORMAL
    site: str = ""
    external_reference: str | None = None
    description: str = ""
    contact: Contact | None = None
    requested_window: TimeWindow | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


def validate_input(data: OrderInput) -> OrderInput:
    """Check every field, collecting all problems so the caller can fix them in one go."""
    errors: dict[str, list[str]] = {}

    def problem(field_name: str, message: str) -> None:
        errors.setdefault(field_name, []).append(message)

    text_fields = _text_fields(data)
    wrong_type = [name for name, value in text_fields if not isinstance(value, str)]
    if wrong_type:  # the checks below assume strings
        raise ValidationError({name: ["Must be a string."] for name in wrong_type})
    for name, value in text_fields:
        if (reason := text_problem(value)) is not None:
            problem(name, reason)
    title = (data.title or "").strip()
    if not title:
        problem("title", "This field is required.")
    elif len(title) > TITLE_MAX:
        problem("title", f"Ensure this field has no more than {TITLE_MAX} characters.")
    if len(data.description or "") > DESCRIPTION_MAX:
        problem("description", f"Ensure this field has no more than {DESCRIPTION_MAX} characters.")
    if data.category not in CATEGORIES:
        problem(
            "category", f"{data.category!r} is not a category; use one of {', '.join(CATEGORIES)}."
        )
    if data.priority not in Priority.__members__.values():
        problem(
            "priority",
            f"{data.priority!r} is not a priority; use one of {', '.join(Priority)}.",
        )
    site = (data.site or "").strip()
    if not site:
        problem("site", "This field is required.")
    elif len(site) > SITE_MAX:
        problem("site", f"Ensure this field has no more than {SITE_MAX} characters.")
    ref = data.external_reference
    if ref is not None and (
        not ref or len(ref) > REFERENCE_MAX or not REFERENCE_PATTERN.match(ref)
    ):
        problem(
            "external_reference",
            f"Use 1 to {REFERENCE_MAX} letters, digits or . _ : / - (starting with a letter "
            "or digit).",
        )
    if data.contact is not None:
        for name in ("name", "phone", "email"):
            if len(getattr(data.contact, name)) > CONTACT_FIELD_MAX:
                problem(
                    f"contact.{name}",
                    f"Ensure this field has no more than {CONTACT_FIELD_MAX} characters.",
                )
        if data.contact.email and not EMAIL_PATTERN.match(data.contact.email):
            problem("contact.email", "Enter a valid email address.")
    window = data.requested_window
    if window is not None:
        if window.start.tzinfo is None or window.end.tzinfo is None:
            problem("requested_window", "Times must include a time zone offset.")
        elif window.end <= window.start:
            problem("requested_window.end", "Must be after the start.")
    _validate_metadata(data.metadata, problem)
    if errors:
        raise ValidationError(errors)
    return OrderInput(
        title=title,
        category=data.category,
        priority=Priority(data.priority),
        site=site,
        external_reference=ref,
        description=data.description or "",
        contact=data.contact,
        requested_window=window,
        metadata=dict(data.metadata or {}),
    )


def _text_fields(data: OrderInput) -> list[tuple[str, Any]]:
    """The order's own text fields that were given (``None`` means "not given")."""
    fields = [
        ("title", data.title),
        ("site", data.site),
        ("description", data.description),
        ("external_reference", data.external_reference),
    ]
    if data.contact is not None:
        fields += [(f"contact.{n}", getattr(data.contact, n)) for n in ("name", "phone", "email")]
    return [(name, value) for name, value in fields if value is not None]


def _validate_metadata(metadata: Any, problem) -> None:
    if not isinstance(metadata, Mapping):
        problem("metadata", "Must be a JSON object.")
        return
    if len(metadata) > METADATA_MAX_KEYS:
        problem("metadata", f"Use at most {METADATA_MAX_KEYS} keys.")
    content_problems = list(_metadata_content_problems(metadata, "metadata", depth=1))
    for message in content_problems:
        problem("metadata", message)
    if content_problems:
        return  # too deep to measure safely, or text that cannot be encoded
    try:
        size = len(json.dumps(metadata, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError):
        problem("metadata", "Must contain only JSON values.")
        return
    if size > METADATA_MAX_BYTES:
        problem("metadata", f"Must be at most {METADATA_MAX_BYTES} bytes as JSON (is {size}).")


def _metadata_content_problems(value: Any, path: str, *, depth: int) -> Iterable[str]:
    """Nesting beyond :data:`METADATA_MAX_DEPTH` and text that cannot be kept, each with the
    path where it is (``metadata.a[0].b``); stops descending at the depth limit."""
    if isinstance(value, str):
        if (reason := text_problem(value)) is not None:
            yield f"{path}: {reason}"
        return
    if not isinstance(value, Mapping | list | tuple):
        return
    if depth > METADATA_MAX_DEPTH:
        yield f"Nest at most {METADATA_MAX_DEPTH} levels of objects and arrays ({path} is deeper)."
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and (reason := text_problem(key)) is not None:
                yield f"A key in {path}: {reason}"
                continue
            yield from _metadata_content_problems(item, f"{path}.{key}", depth=depth + 1)
    else:
        for index, item in enumerate(value):
            yield from _metadata_content_problems(item, f"{path}[{index}]", depth=depth + 1)


def create_order(
    data: OrderInput, *, order_id: str, integrator: str, actor: Actor, now: datetime
) -> tuple[Order, OrderEvent]:
    """A new order in the initial status at version 1, and the event that says so."""
    valid = validate_input(data)
    order = Order(
        id=order_id,
        integrator=integrator,
        title=valid.title,
        category=valid.category,
        priority=Priority(valid.priority),
        site=valid.site,
        status=INITIAL_STATUS,
        version=1,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        external_reference=valid.external_reference,
        description=valid.description,
        contact=valid.contact,
        requested_window=valid.requested_window,
        metadata=valid.metadata,
    )
    event = OrderEvent(
        id=new_event_id(),
        type=EventType.CREATED,
        order=order,
        from_status=None,
        to_status=order.status,
        actor=actor,
        reason=None,
        occurred_at=now,
    )
    order = order.replace(history=(event.history_entry,))
    return order, _with_order(event, order)


def move(
    order: Order,
    to: str,
    *,
    actor: Actor,
    now: datetime,
    reason: str | None = None,
    team: str | None = None,
) -> tuple[Order, OrderEvent]:
    """Apply one workflow move: check it, set what the target status implies, bump the version."""
    target = Status(to) if to in Status.__members__.values() else None
    if target is None:
        raise ValidationError({"to": [f"{to!r} is not a status."]})
    check_move(order.status, target, actor.kind)
    if reason is not None and not isinstance(reason, str):
        raise ValidationError({"reason": ["Must be a string."]})
    if reason is not None and (problem := text_problem(reason)) is not None:
        raise ValidationError({"reason": [problem]})
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        raise ValidationError(
            {"reason": [f"Ensure this field has no more than {REASON_MAX} characters."]}
        )
    if target in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": [f"A reason is required to move an order to {target}."]})

    changes: dict[str, Any] = {}
    if target is Status.ACCEPTED:
        changes["sla_due_at"] = order.created_at + SLA_BY_PRIORITY[order.priority]
    elif target is Status.SCHEDULED:
        if not team:
            raise ValidationError({"team": ["A team is required to schedule an order."]})
        changes["assigned_team"] = team
    elif target is Status.REJECTED:
        changes["rejection_reason"] = reason
    elif target is Status.CANCELLED:
        changes["cancellation_reason"] = reason
    elif target is Status.IN_PROGRESS:
        changes["started_at"] = now
    elif target is Status.COMPLETED:
        changes["completed_at"] = now
        changes["sla_met"] = order.sla_due_at is None or now <= order.sla_due_at

    moved = order.replace(
        status=target, version=order.version + 1, updated_at=now, status_changed_at=now, **changes
    )
    event = OrderEvent(
        id=new_event_id(),
        type=EventType.STATUS_CHANGED,
        order=moved,
        from_status=order.status,
        to_status=target,
        actor=actor,
        reason=reason,
        occurred_at=now,
    )
    moved = moved.replace(history=(*order.history, event.history_entry))
    return moved, _with_order(event, moved)


#: What staff may correct on an open order. The category is not among them (it decided the
#: team), nor the external reference (it identifies the order to its integrator).
EDITABLE = ("title", "description", "site", "priority", "contact", "requested_window", "metadata")


def edit(
    order: Order, changes: dict[str, Any], *, actor: Actor, now: datetime
) -> tuple[Order, OrderEvent]:
    """Correct an open order's details: validated like a new order, version bumped, the
    changed fields named in the history entry."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    if order.status in TERMINAL_STATUSES:
        raise ValidationError({"status": [f"A {order.status} order can no longer be changed."]})
    current = {name: getattr(order, name) for name in EDITABLE}
    changed = sorted(name for name, value in changes.items() if current[name] != value)
    if not changed:
        raise ValidationError({"body": ["Nothing to change."]})
    valid = validate_input(
        OrderInput(
            category=order.category,
            external_reference=order.external_reference,
            **{**current, **changes},
        )
    )
    updates = {name: getattr(valid, name) for name in EDITABLE}
    if order.sla_due_at is not None and valid.priority != order.priority:
        updates["sla_due_at"] = order.created_at + SLA_BY_PRIORITY[Priority(valid.priority)]
    return _updated(order, updates, actor=actor, now=now, reason="changed " + ", ".join(changed))


def reassign(order: Order, team: str, *, actor: Actor, now: datetime) -> tuple[Order, OrderEvent]:
    """Give a scheduled or started order to another team (capacity is the service's job)."""
    if order.status not in (Status.SCHEDULED, Status.IN_PROGRESS):
        raise ValidationError(
            {"team": [f"A {order.status} order has no team to change (scheduled or started only)."]}
        )
    if team == order.assigned_team:
        raise ValidationError({"team": [f"The order is already with {team}."]})
    return _updated(
        order,
        {"assigned_team": team},
        actor=actor,
        now=now,
        reason=f"assigned to team {team} (was {order.assigned_team})",
    )


def _updated(
    order: Order, updates: dict[str, Any], *, actor: Actor, now: datetime, reason: str
) -> tuple[Order, OrderEvent]:
    """A change that keeps the status: version bumped, an ``order.updated`` event, and a
    history entry saying what changed."""
    changed = order.replace(version=order.version + 1, updated_at=now, **updates)
    event = OrderEvent(
        id=new_event_id(),
        type=EventType.UPDATED,
        order=changed,
        from_status=order.status,
        to_status=order.status,
        actor=actor,
        reason=reason,
        occurred_at=now,
    )
    changed = changed.replace(history=(*order.history, event.history_entry))
    return changed, _with_order(event, changed)


def _with_order(event: OrderEvent, order: Order) -> OrderEvent:
    return dataclasses.replace(event, order=order)


def review(order: Order, *, now: datetime, served_categories: Iterable[str]) -> str | None:
    """The received worker's check: ``None`` to accept, or the reason to reject."""
    if order.category not in set(served_categories):
        return f"No active team serves the {order.category!r} category."
    window = order.requested_window
    if window is not None and window.end <= now:
        return "The requested window has already ended."
    if window is not None and order.priority is Priority.URGENT:
        due = order.created_at + SLA_BY_PRIORITY[order.priority]
        if window.start > due:
            return "An urgent order cannot be requested for after its SLA is due."
    return None


@dataclass(frozen=True)
class TeamCandidate:
    id: str
    capacity: int
    load: int


def rank_teams(candidates: Sequence[TeamCandidate]) -> list[TeamCandidate]:
    """Least loaded first (by share of capacity used), ties by id; full teams are left out."""
    open_teams = [c for c in candidates if c.capacity > 0 and c.load < c.capacity]
    return sorted(open_teams, key=lambda c: (c.load / c.capacity, c.load, c.id))
