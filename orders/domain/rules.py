"""Business rules: what a valid order is, what each move changes, how teams are chosen.

The API, the admin and the workers all reach these through ``orders.services``.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .errors import PermissionDenied, ValidationError
from .model import (
    CATEGORIES,
    SLA_BY_PRIORITY,
    Actor,
    Attachment,
    Contact,
    EventType,
    Note,
    Order,
    OrderEvent,
    Priority,
    TechnicianRef,
    TimeWindow,
    Visibility,
    Visit,
    new_event_id,
    new_id,
)
from .sla import ALWAYS, BusinessCalendar, sla_clock
from .workflow import (
    INITIAL_STATUS,
    PAUSED_STATUSES,
    REASON_REQUIRED,
    TERMINAL_STATUSES,
    ActorKind,
    Status,
    check_move,
)

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
REFERENCE_PROBLEM = (
    f"Use 1 to {REFERENCE_MAX} letters, digits or . _ : / - (starting with a letter or digit; "
    "no spaces or line breaks)."
)
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
        problem("external_reference", REFERENCE_PROBLEM)
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
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent]:
    """Apply one workflow move: check it, set what the target status implies, bump the version."""
    target = Status(to) if to in Status.__members__.values() else None
    if target is None:
        raise ValidationError({"to": [f"{to!r} is not a status."]})
    check_move(order.status, target, actor.kind)
    reason = clean_reason(reason)
    if target in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": [f"A reason is required to move an order to {target}."]})
    if order.status in PAUSED_STATUSES and target is not Status.CANCELLED:
        held = order.hold
        back_to = held.from_status if held is not None else None
        if back_to is not None and target is not back_to:
            raise ValidationError(
                {"to": [f"An order on hold resumes to the status it was held from ({back_to})."]}
            )

    changes: dict[str, Any] = {}
    if target is Status.SCHEDULED and order.status not in PAUSED_STATUSES:
        if not team:
            raise ValidationError({"team": ["A team is required to schedule an order."]})
        changes["assigned_team"] = team
    elif target is Status.REJECTED:
        changes["rejection_reason"] = reason
    elif target is Status.CANCELLED:
        changes["cancellation_reason"] = reason
    elif target is Status.IN_PROGRESS and order.started_at is None:
        changes["started_at"] = now
    elif target is Status.COMPLETED:
        visit = order.visit
        if visit is not None and visit.open:
            raise ValidationError(
                {
                    "to": [
                        "The technician has not checked out of the visit yet; check out "
                        "before completing the order."
                    ]
                }
            )
        changes["completed_at"] = now
    return _changed(
        order,
        changes,
        status=target,
        event_type=EventType.STATUS_CHANGED,
        actor=actor,
        now=now,
        reason=reason,
        calendar=calendar,
    )


def clean_reason(reason: Any, *, field_name: str = "reason") -> str | None:
    """A move's reason, stripped (``None`` if empty); refused if not text or too long."""
    if reason is not None and not isinstance(reason, str):
        raise ValidationError({field_name: ["Must be a string."]})
    if reason is not None and (problem := text_problem(reason)) is not None:
        raise ValidationError({field_name: [problem]})
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        raise ValidationError(
            {field_name: [f"Ensure this field has no more than {REASON_MAX} characters."]}
        )
    return reason


def with_sla(order: Order, *, now: datetime, calendar: BusinessCalendar = ALWAYS) -> Order:
    """``order`` with its stored SLA fields brought up to date from its history: the due time
    while the clock runs (none while it is paused, so due-soon listings leave held orders out)
    and, once completed, whether the SLA was met."""
    clock = sla_clock(order, now=now, calendar=calendar)
    if clock is None:
        return order.replace(sla_due_at=None)
    # The clock's own rule (no due time while paused): stored and computed always agree.
    changes: dict[str, Any] = {"sla_due_at": clock.due_at}
    if order.status is Status.COMPLETED:
        changes["sla_met"] = not clock.breached
    return order.replace(**changes)


#: What staff may correct on an open order. The category is not among them (it decided the
#: team), nor the external reference (it identifies the order to its integrator).
EDITABLE = ("title", "description", "site", "priority", "contact", "requested_window", "metadata")


def edit(
    order: Order,
    changes: dict[str, Any],
    *,
    actor: Actor,
    now: datetime,
    calendar: BusinessCalendar = ALWAYS,
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
    return _changed(
        order,
        updates,
        status=order.status,
        event_type=EventType.UPDATED,
        actor=actor,
        now=now,
        reason="changed " + ", ".join(changed),
        calendar=calendar,
    )


#: Statuses in which an order has a team, and so can change team or technician.
STAFFED = (Status.SCHEDULED, Status.IN_PROGRESS, Status.ON_HOLD)


def reassign(
    order: Order,
    team: str,
    *,
    actor: Actor,
    now: datetime,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent]:
    """Give a scheduled, started or held order to another team (capacity is the service's
    job). Its technician is a member of the old team, so the order leaves them too."""
    if order.status not in STAFFED:
        raise ValidationError(
            {"team": [f"A {order.status} order has no team to change (scheduled or started only)."]}
        )
    if team == order.assigned_team:
        raise ValidationError({"team": [f"The order is already with {team}."]})
    _require_staff(actor, "team")
    visit = order.visit
    if visit is not None and visit.checked_in_at is not None and visit.open:
        raise ValidationError(
            {"team": ["The technician is on site (checked in): check out before changing team."]}
        )
    changes: dict[str, Any] = {"assigned_team": team, "technician": None}
    if visit is not None and visit.open:
        changes["visits"] = order.visits[:-1]  # the booked visit was the old team's
    return _changed(
        order,
        changes,
        status=order.status,
        event_type=EventType.UPDATED,
        actor=actor,
        now=now,
        reason=f"assigned to team {team} (was {order.assigned_team})",
        calendar=calendar,
    )


def _changed(
    order: Order,
    updates: dict[str, Any],
    *,
    status: Status,
    event_type: EventType,
    actor: Actor,
    now: datetime,
    reason: str | None,
    calendar: BusinessCalendar,
    subject: Note | Attachment | Visit | None = None,
) -> tuple[Order, OrderEvent]:
    """One change of the order: version bumped, a history entry saying what happened, the
    SLA fields recomputed from the new history, and the event with the order as it is now."""
    changed = order.replace(version=order.version + 1, updated_at=now, **updates)
    if status is not order.status:
        changed = changed.replace(status=status, status_changed_at=now)
    event = OrderEvent(
        id=new_event_id(),
        type=event_type,
        order=changed,
        from_status=order.status,
        to_status=status,
        actor=actor,
        reason=reason,
        occurred_at=now,
        subject=subject,
    )
    changed = changed.replace(history=(*order.history, event.history_entry))
    changed = with_sla(changed, now=now, calendar=calendar)
    return changed, _with_order(event, changed)


def _with_order(event: OrderEvent, order: Order) -> OrderEvent:
    return dataclasses.replace(event, order=order)


def _require_staff(actor: Actor, field_name: str) -> None:
    if actor.kind is not ActorKind.STAFF:
        raise PermissionDenied(f"Only staff may change the {field_name} of an order.")


# -- notes and attachments --------------------------------------------------------------------

NOTE_MAX = 4000
FILENAME_MAX = 200
#: Who may write what: integrators only public notes and attachments (what they add is for
#: both sides), staff either kind.
VISIBILITIES_BY_ACTOR: dict[ActorKind, frozenset[Visibility]] = {
    ActorKind.INTEGRATOR: frozenset({Visibility.PUBLIC}),
    ActorKind.STAFF: frozenset({Visibility.PUBLIC, Visibility.INTERNAL}),
    ActorKind.SYSTEM: frozenset({Visibility.PUBLIC, Visibility.INTERNAL}),
}


def visibility_for(actor: Actor, value: Any, *, field_name: str = "visibility") -> Visibility:
    if value is None or value == "":
        return Visibility.PUBLIC
    if not isinstance(value, str) or value not in Visibility.__members__.values():
        raise ValidationError(
            {field_name: [f"{value!r} is not a visibility; use one of {', '.join(Visibility)}."]}
        )
    visibility = Visibility(value)
    if visibility not in VISIBILITIES_BY_ACTOR[actor.kind]:
        raise PermissionDenied(f"A {actor.kind} cannot add {visibility} notes or attachments.")
    return visibility


def add_note(
    order: Order,
    text: Any,
    *,
    visibility: Any = None,
    actor: Actor,
    author_name: str,
    now: datetime,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent, Note]:
    """A note on the order's timeline; the order's version moves on with an
    ``order.note_added`` event (internal notes' events are for staff only)."""
    if not isinstance(text, str):
        raise ValidationError({"text": ["Must be a string."]})
    if (problem := text_problem(text)) is not None:
        raise ValidationError({"text": [problem]})
    text = text.strip()
    if not text:
        raise ValidationError({"text": ["This field is required."]})
    if len(text) > NOTE_MAX:
        raise ValidationError(
            {"text": [f"Ensure this field has no more than {NOTE_MAX} characters."]}
        )
    note = Note(
        id=new_id(),
        order_id=order.id,
        text=text,
        visibility=visibility_for(actor, visibility),
        author=actor,
        author_name=author_name or actor.id,
        at=now,
    )
    changed, event = _changed(
        order,
        {},
        status=order.status,
        event_type=EventType.NOTE_ADDED,
        actor=actor,
        now=now,
        reason=None,
        calendar=calendar,
        subject=note,
    )
    return changed, event, note


def add_attachment(
    order: Order, attachment: Attachment, *, now: datetime, calendar: BusinessCalendar = ALWAYS
) -> tuple[Order, OrderEvent]:
    """Record an uploaded file on the order (``order.attachment_added``)."""
    visibility_for(attachment.author, attachment.visibility)
    return _changed(
        order,
        {},
        status=order.status,
        event_type=EventType.ATTACHMENT_ADDED,
        actor=attachment.author,
        now=now,
        reason=None,
        calendar=calendar,
        subject=attachment,
    )


#: The name of a file whose own name has nothing printable left in it.
UNNAMED_FILE = "attachment"


def clean_filename(value: Any) -> str:
    """The name an upload is shown and downloaded under: its last path part, printable."""
    if not isinstance(value, str):
        raise ValidationError({"filename": ["Must be a string."]})
    if (problem := text_problem(value)) is not None:
        raise ValidationError({"filename": [problem]})
    name = value.replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if not name.strip("."):
        # Nothing showable is left (a folder, dots, control characters): the file still has
        # to be called something, and refusing a name the client cannot fix helps no one.
        name = UNNAMED_FILE
    if len(name) > FILENAME_MAX:
        raise ValidationError(
            {"filename": [f"Ensure this field has no more than {FILENAME_MAX} characters."]}
        )
    return name


# -- technicians and visits -------------------------------------------------------------------

#: The longest visit window that can be booked.
VISIT_MAX = timedelta(hours=24)


def assign_technician(
    order: Order,
    technician: TechnicianRef,
    *,
    actor: Actor,
    now: datetime,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent]:
    """Give the order to a member of its team (that it is one is the service's check)."""
    _require_staff(actor, "technician")
    if order.status not in STAFFED:
        raise ValidationError(
            {"technician": [f"A {order.status} order cannot be given to a technician."]}
        )
    if order.technician is not None and order.technician.id == technician.id:
        raise ValidationError({"technician": [f"The order is already with {technician.name}."]})
    visit = order.visit
    if visit is not None and visit.checked_in_at is not None and visit.open:
        raise ValidationError(
            {"technician": ["The technician is on site (checked in): check out first."]}
        )
    changes: dict[str, Any] = {"technician": technician}
    if visit is not None and visit.open:
        # The booked visit goes with the order to its new technician.
        changes["visits"] = (*order.visits[:-1], dataclasses.replace(visit, technician=technician))
    was = f" (was {order.technician.name})" if order.technician else ""
    return _changed(
        order,
        changes,
        status=order.status,
        event_type=EventType.UPDATED,
        actor=actor,
        now=now,
        reason=f"assigned to technician {technician.name}{was}",
        calendar=calendar,
    )


def check_window(window: Any, *, now: datetime) -> TimeWindow:
    if not isinstance(window, TimeWindow):
        raise ValidationError({"window": ["Give the visit's start and end."]})
    if window.start.tzinfo is None or window.end.tzinfo is None:
        raise ValidationError({"window": ["Times must include a time zone offset."]})
    if window.end <= window.start:
        raise ValidationError({"window.end": ["Must be after the start."]})
    if window.end - window.start > VISIT_MAX:
        raise ValidationError(
            {
                "window.end": [
                    f"A visit lasts at most {int(VISIT_MAX.total_seconds() // 3600)} hours."
                ]
            }
        )
    if window.end <= now:
        raise ValidationError({"window.end": ["The window has already ended."]})
    return window


def schedule_visit(
    order: Order,
    window: TimeWindow,
    *,
    actor: Actor,
    now: datetime,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent]:
    """Book a visit by the order's technician (``order.visit_scheduled``); an order has one
    visit open at a time: a later one is booked once the last was checked out."""
    _require_staff(actor, "visit")
    if order.status not in STAFFED:
        raise ValidationError({"window": [f"A {order.status} order cannot be visited."]})
    if order.technician is None:
        raise ValidationError({"technician": ["Assign a technician before booking a visit."]})
    if order.visit is not None and order.visit.open:
        raise ValidationError(
            {"window": ["A visit is already booked: reschedule it, or check out first."]}
        )
    window = check_window(window, now=now)
    visit = Visit(
        id=new_id(),
        start=window.start,
        end=window.end,
        technician=order.technician,
        scheduled_at=now,
    )
    return _changed(
        order,
        {"visits": (*order.visits, visit)},
        status=order.status,
        event_type=EventType.VISIT_SCHEDULED,
        actor=actor,
        now=now,
        reason=None,
        calendar=calendar,
        subject=visit,
    )


def reschedule_visit(
    order: Order,
    window: TimeWindow,
    *,
    actor: Actor,
    now: datetime,
    reason: Any = None,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Order, OrderEvent]:
    """Move the booked visit's window (``order.visit_rescheduled``), before check-in only."""
    _require_staff(actor, "visit")
    visit = _open_visit(order, "window")
    if visit.checked_in_at is not None:
        raise ValidationError({"window": ["The technician has checked in: the visit has begun."]})
    if order.status in TERMINAL_STATUSES:
        raise ValidationError({"window": [f"A {order.status} order cannot be visited."]})
    window = check_window(window, now=now)
    if (window.start, window.end) == (visit.start, visit.end):
        raise ValidationError({"window": ["The visit already has this window."]})
    moved = dataclasses.replace(
        visit, start=window.start, end=window.end, reschedules=visit.reschedules + 1
    )
    return _visit_changed(
        order,
        moved,
        EventType.VISIT_RESCHEDULED,
        actor=actor,
        now=now,
        calendar=calendar,
        reason=clean_reason(reason),
    )


def check_in(
    order: Order, *, actor: Actor, now: datetime, calendar: BusinessCalendar = ALWAYS
) -> tuple[Order, OrderEvent]:
    """The technician arrived (``order.visit_checked_in``): a scheduled order starts."""
    _require_staff(actor, "visit")
    visit = _open_visit(order, "visit")
    if visit.checked_in_at is not None:
        raise ValidationError({"visit": ["The technician has already checked in."]})
    if order.status not in (Status.SCHEDULED, Status.IN_PROGRESS):
        raise ValidationError(
            {"visit": [f"A {order.status} order cannot be checked in to (resume it first)."]}
        )
    status, started = order.status, {}
    if status is Status.SCHEDULED:
        check_move(status, Status.IN_PROGRESS, actor.kind)
        status, started = Status.IN_PROGRESS, {"started_at": order.started_at or now}
    return _visit_changed(
        order,
        dataclasses.replace(visit, checked_in_at=now),
        EventType.VISIT_CHECKED_IN,
        actor=actor,
        now=now,
        calendar=calendar,
        status=status,
        **started,
    )


def check_out(
    order: Order, *, actor: Actor, now: datetime, calendar: BusinessCalendar = ALWAYS
) -> tuple[Order, OrderEvent]:
    """The technician left (``order.visit_checked_out``); the order can then be completed."""
    _require_staff(actor, "visit")
    visit = _open_visit(order, "visit")
    if visit.checked_in_at is None:
        raise ValidationError({"visit": ["The technician has not checked in yet."]})
    return _visit_changed(
        order,
        dataclasses.replace(visit, checked_out_at=now),
        EventType.VISIT_CHECKED_OUT,
        actor=actor,
        now=now,
        calendar=calendar,
    )


def _visit_changed(
    order: Order,
    visit: Visit,
    event_type: EventType,
    *,
    actor: Actor,
    now: datetime,
    calendar: BusinessCalendar,
    status: Status | None = None,
    reason: str | None = None,
    **changes: Any,
) -> tuple[Order, OrderEvent]:
    """The change of the order's latest visit to ``visit``, announced as ``event_type``."""
    return _changed(
        order,
        {"visits": (*order.visits[:-1], visit), **changes},
        status=status or order.status,
        event_type=event_type,
        actor=actor,
        now=now,
        reason=reason,
        calendar=calendar,
        subject=visit,
    )


def open_work(order: Order) -> frozenset[str]:
    """The work staff may do on the order now (what the rules above would accept): ``hold``,
    ``resume``, ``technician``, ``visit``, ``check_in``, ``check_out``. Pages offer these."""
    visit = order.visit
    booked = visit is not None and visit.open
    started = booked and visit.checked_in_at is not None
    work: set[str] = set()
    if order.status in (Status.SCHEDULED, Status.IN_PROGRESS):
        work.add("hold")
        if booked and not started:
            work.add("check_in")
    if order.status in PAUSED_STATUSES:
        work.add("resume")
    if order.status in STAFFED and not started:
        work.add("technician")
        if order.technician is not None:
            work.add("visit")
    if started:
        work.add("check_out")
    return frozenset(work)


#: How far from its booked window a check-in is unusual enough to ask "are you sure?" first.
CHECK_IN_SLACK = timedelta(hours=2)


def check_in_far_from_window(order: Order, *, now: datetime) -> bool:
    """Checking in now would be well before or after the booked window (the wrong order, or
    a visit nobody moved): pages ask before they record it. The rules still allow it."""
    visit = order.visit
    if visit is None or not visit.open or visit.checked_in_at is not None:
        return False
    return now < visit.start - CHECK_IN_SLACK or now > visit.end + CHECK_IN_SLACK


def _open_visit(order: Order, field_name: str) -> Visit:
    visit = order.visit
    if visit is None or not visit.open:
        raise ValidationError({field_name: ["The order has no visit booked."]})
    return visit


def review(order: Order, *, now: datetime, served_categories: Iterable[str]) -> str | None:
    """The received worker's check: ``None`` to accept, or the reason to reject."""
    if order.category not in set(served_categories):
        return f"No active team serves the {order.category!r} category."
    window = order.requested_window
    if window is not None and window.end <= now:
        return "The requested window has already ended."
    if window is not None and order.priority is Priority.URGENT:
        due = order.created_at + SLA_BY_PRIORITY[order.priority]  # review has no calendar yet
        if window.start > due:
            return "An urgent order cannot be requested for after its SLA is due."
    return None


@dataclass(frozen=True)
class TeamCandidate:
    id: str
    capacity: int
    load: int


#: Teams a scheduler weighs for one order: a random few, the least loaded of them taken
#: ("the power of two choices"), so that no team's load item is read by every order of its
#: category; every team only when those few are full. 0: every team, always.
TEAMS_CONSIDERED = 4


def considered_teams(order_id: str, codes: Sequence[str]) -> list[str]:
    """The few teams an order is weighed for first: always the same for one order (seeded by
    its id), so that a retried attempt finds the reservation an earlier one made."""
    ordered = sorted(codes)
    if not TEAMS_CONSIDERED or len(ordered) <= TEAMS_CONSIDERED:
        return ordered
    return random.Random(order_id).sample(ordered, TEAMS_CONSIDERED)


def rank_teams(candidates: Sequence[TeamCandidate]) -> list[TeamCandidate]:
    """Least loaded first (by share of capacity used), ties by id; full teams are left out."""
    open_teams = [c for c in candidates if c.capacity > 0 and c.load < c.capacity]
    return sorted(open_teams, key=lambda c: (c.load / c.capacity, c.load, c.id))
