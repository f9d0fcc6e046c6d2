"""Notes and attachments: who may add which visibility, and the text and file names kept.

The files themselves are ``orders.attachments``' job; here is only what the order records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import PermissionDenied, ValidationError
from ..model import Actor, Attachment, EventType, Note, Order, OrderEvent, Visibility, new_id
from ..sla import ALWAYS, BusinessCalendar
from ..workflow import ActorKind
from .changes import _changed
from .validation import text_problem

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
    """The visibility asked for (public if none), refused if ``actor`` may not write it."""
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
