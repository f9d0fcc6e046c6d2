"""What staff do to the pipeline, each write with its audit entry: every caller (the admin's
dead-letter page, a script) goes through here, so no redrive goes unrecorded."""

from __future__ import annotations

from aws.queues import StatusQueues
from operations.models import AuditEntry


def redrive(queues: StatusQueues, status: str, *, by: str, message_id: str | None = None) -> int:
    """Send dead letters back to the status's queue (one, or all) as user ``by``, recorded in
    the audit log the pipeline page shows; how many moved."""
    moved = queues.redrive(status, message_id=message_id)
    AuditEntry.objects.create(
        user=by,
        action="redrive",
        target=queues.resources.dead_letter_queue_name(status),
        detail=f"{moved} message(s)" + (f", message {message_id}" if message_id else ""),
    )
    return moved


def recent_actions(limit: int = 10, *, target: str | None = None) -> list[AuditEntry]:
    """The latest staff actions outside the orders' history (on ``target`` only, if given),
    newest first."""
    entries = AuditEntry.objects.all()
    if target is not None:
        entries = entries.filter(target=target)
    return list(entries[:limit])
