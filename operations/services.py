"""What staff do to the pipeline, each write with its audit entry: every caller (the admin's
dead-letter page, a script) goes through here, so no redrive or discard goes unrecorded."""

from __future__ import annotations

from aws.queues import StatusQueues
from operations.models import AuditEntry


def redrive(queues: StatusQueues, status: str, *, by: str, message_id: str | None = None) -> int:
    """Send dead letters back to the status's queue (one, or all) as user ``by``, recorded in
    the audit log the pipeline page shows; how many moved."""
    moved = queues.redrive(status, message_id=message_id)
    _record(queues, status, AuditEntry.REDRIVE, by=by, count=moved, message_id=message_id)
    return moved


def discard(queues: StatusQueues, status: str, *, by: str, message_id: str | None = None) -> int:
    """Delete dead letters of the status's queue for good (one, or all) as user ``by``,
    recorded like a redrive: a message nobody can get back must at least say who removed it.
    How many went."""
    gone = queues.discard(status, message_id=message_id)
    _record(queues, status, AuditEntry.DISCARD, by=by, count=gone, message_id=message_id)
    return gone


def _record(
    queues: StatusQueues, status: str, action: str, *, by: str, count: int, message_id: str | None
) -> None:
    """One audit entry, even when nothing was found: someone asked, and the log says so."""
    AuditEntry.objects.create(
        user=by,
        action=action,
        target=queues.resources.dead_letter_queue_name(status),
        detail=f"{count} message(s)" + (f", message {message_id}" if message_id else ""),
    )


def recent_actions(limit: int = 10, *, target: str | None = None) -> list[AuditEntry]:
    """The latest staff actions outside the orders' history (on ``target`` only, if given),
    newest first."""
    entries = AuditEntry.objects.all()
    if target is not None:
        entries = entries.filter(target=target)
    return list(entries[:limit])
