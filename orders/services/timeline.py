"""The order's timeline: notes (public or staff-only) and recorded attachments. Neither depends
on the order's state, so another change landing first only means another try."""

from __future__ import annotations

from kernel import metrics
from orders.domain import rules
from orders.domain.model import Actor, Attachment, Note, Order, recorded

from .changes import OrderChanges


class OrderTimeline:
    def __init__(self, changes: OrderChanges):
        self._changes = changes

    def add_note(
        self,
        *,
        order_id: str,
        text: str,
        actor: Actor,
        author_name: str,
        visibility: str | None = None,
        integrator: str | None = None,
        expected_version: int | None = None,
    ) -> Note:
        """Put a note on the order's timeline (``order.note_added``). An integrator's note
        is public; staff choose. ``integrator``: only on that integrator's order."""

        def add(order: Order) -> Note:
            changed, event, note = rules.add_note(
                order,
                text,
                visibility=visibility,
                actor=actor,
                author_name=author_name,
                now=self._changes.clock(),
                calendar=self._changes.calendar(order),
            )
            self._changes.save(order, changed, event, adds=[note])
            return note

        note = self._changes.changing(
            order_id, add, integrator=integrator, expected_version=expected_version
        )
        metrics.NOTES_ADDED.labels(str(actor.kind), str(note.visibility)).inc()
        return note

    def record_attachment(
        self, attachment: Attachment, *, integrator: str | None = None
    ) -> Attachment:
        """Record a file already stored under ``attachment.key`` (``order.attachment_added``).
        Recording the same attachment id again returns the one recorded (a retried request)."""

        def record(order: Order) -> Attachment:
            existing = self._changes.store.attachment(order.id, attachment.id)
            if existing is not None and recorded(order, [existing]):
                return existing
            changed, event = rules.add_attachment(
                order,
                attachment,
                now=self._changes.clock(),
                calendar=self._changes.calendar(order),
            )
            self._changes.save(order, changed, event, adds=[attachment])
            return attachment

        return self._changes.changing(
            attachment.order_id, record, integrator=integrator, expected_version=None
        )
