"""Reads of one order and what hangs on it: the order (an integrator's own only), its notes
and attachments (an integrator's public ones only), where it stands against its SLA."""

from __future__ import annotations

from datetime import datetime

from orders.domain.errors import OrderNotFound
from orders.domain.model import Attachment, Note, Order, Visibility, recorded, reference_order_id
from orders.domain.sla import SlaClock, sla_clock

from .base import SelectorBase


class OneOrderReads(SelectorBase):
    def get_order(self, order_id: str, *, integrator: str | None = None) -> Order:
        """The order; with ``integrator``, only if it is that integrator's (another's is
        :class:`OrderNotFound`, so ids cannot be probed)."""
        order = self.orders.get(order_id)
        if integrator is not None and order.integrator != integrator:
            raise OrderNotFound(order_id)
        return order

    def find_by_reference(self, *, integrator: str, external_reference: str) -> Order | None:
        try:
            return self.orders.get(reference_order_id(integrator, external_reference))
        except OrderNotFound:
            return None

    def sla(self, order: Order, *, now: datetime | None = None) -> SlaClock | None:
        """Where the order stands against its SLA now (``None`` before review passed it)."""
        return sla_clock(
            order, now=now or self.clock(), calendar=self.calendar(order.assigned_team)
        )

    def notes(self, order_id: str, *, integrator: str | None = None) -> list[Note]:
        """The order's notes, oldest first: for an integrator (its own order only), the
        public ones; for staff, all."""
        order = self.get_order(order_id, integrator=integrator)
        found = recorded(order, self.orders.notes(order_id))
        if integrator is not None:
            found = [n for n in found if n.visibility is Visibility.PUBLIC]
        return found

    def notes_and_attachments(self, order: Order) -> tuple[list[Note], list[Attachment]]:
        """All of an order's notes and attachments, for staff who have just read the order:
        both reads at once, and no second read of the order."""
        notes, attachments = self.fan_out(
            [lambda: self.orders.notes(order.id), lambda: self.orders.attachments(order.id)]
        )
        return recorded(order, notes), recorded(order, attachments)

    def attachments(self, order_id: str, *, integrator: str | None = None) -> list[Attachment]:
        """The order's attachments, oldest first (an integrator sees the public ones)."""
        order = self.get_order(order_id, integrator=integrator)
        found = recorded(order, self.orders.attachments(order_id))
        if integrator is not None:
            found = [a for a in found if a.visibility is Visibility.PUBLIC]
        return found

    def attachment(
        self, order_id: str, attachment_id: str, *, integrator: str | None = None
    ) -> Attachment | None:
        order = self.get_order(order_id, integrator=integrator)
        found = self.orders.attachment(order_id, attachment_id)
        if (
            found is None
            or not recorded(order, [found])
            or (integrator is not None and found.visibility is not Visibility.PUBLIC)
        ):
            return None
        return found
