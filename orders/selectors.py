"""The reads: what the API, the admin and the workers look up, never changing anything.

Writes are in ``orders.services``; both stand on the same repository. Kept apart so a reader
sees at a glance which calls can move an order (HackSoft's services vs selectors).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from orders.domain import search
from orders.domain.errors import OrderNotFound
from orders.domain.model import (
    Attachment,
    Note,
    Order,
    Priority,
    Visibility,
    recorded,
    reference_order_id,
)
from orders.domain.sla import BusinessCalendar, SlaClock, sla_clock
from orders.domain.workflow import Status
from orders.repository.base import (
    MAX_PAGE_SIZE,
    OrderFilter,
    OrderRepository,
    Page,
    SearchResult,
)
from orders.repository.fan_out import SEQUENTIAL, FanOut

#: Waiting orders one assignment pass reads (oldest first); the periodic sweep takes the rest.
BACKLOG_BATCH = 50
#: How many orders a sort other than "newest first" puts in order.
SORT_CAP = 1000


class OrderSelector:
    def __init__(
        self,
        *,
        orders: OrderRepository,
        calendar: Callable[[str | None], BusinessCalendar],
        clock: Callable[[], datetime],
        fan_out: FanOut = SEQUENTIAL,
    ):
        self.orders = orders
        #: Issues independent reads (one per status) at once.
        self.fan_out = fan_out
        #: The working hours of a team's orders (``TeamDirectory.calendar``).
        self.calendar = calendar
        self.clock = clock

    def get_order(self, order_id: str, *, integrator: str | None = None) -> Order:
        """The order; with ``integrator``, only if it is that integrator's (another's is
        :class:`OrderNotFound`, so ids cannot be probed)."""
        order = self.orders.get(order_id)
        if integrator is not None and order.integrator != integrator:
            raise OrderNotFound(order_id)
        return order

    def list_by_integrator(
        self,
        integrator: str,
        *,
        filters: OrderFilter | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Order]:
        return self.orders.list_by_integrator(
            integrator, filters=filters, limit=limit, cursor=cursor
        )

    def list_orders(
        self,
        *,
        filters: OrderFilter | None = None,
        integrator: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Order]:
        """Newest first: one integrator's orders, or everyone's (staff)."""
        if integrator:
            return self.orders.list_by_integrator(
                integrator, filters=filters, limit=limit, cursor=cursor
            )
        return self.orders.list_recent(filters=filters, limit=limit, cursor=cursor)

    def count_in_status(self, status: str, *, cap: int = 1000) -> tuple[int, bool]:
        """Orders in ``status``, reading at most ``cap`` entries (and whether it stopped)."""
        return self.orders.count_by_status(Status(status), cap=cap)

    def count_stuck(
        self, status: str, *, changed_before: datetime, cap: int = 1000
    ) -> tuple[int, bool]:
        """Orders in ``status`` that have not moved since ``changed_before``."""
        return self.orders.count_stuck(Status(status), changed_before=changed_before, cap=cap)

    def count_due(self, status: str, *, due_before: datetime, cap: int = 1000) -> tuple[int, bool]:
        """Orders in ``status`` whose SLA is due before ``due_before``."""
        return self.orders.count_due(Status(status), due_before=due_before, cap=cap)

    def oldest_in_status(self, status: str) -> Order | None:
        """The order waiting longest in ``status``."""
        return self.orders.oldest_in_status(Status(status))

    def search(
        self,
        text: str,
        *,
        limit: int = 50,
        filters: OrderFilter | None = None,
        integrator: str | None = None,
    ) -> SearchResult:
        """Orders every term of ``text`` starts a word of — in the title, the site or the
        external reference — or the start of whose id it is; newest first, any case. The
        page found is narrowed by ``filters`` and ``integrator``."""
        found = self.orders.search(search.query_terms(text), limit=limit)
        kept = [
            o
            for o in found.items
            if (filters is None or filters.matches(o))
            and (not integrator or o.integrator == integrator)
        ]
        return SearchResult(items=kept, more=found.more)

    def find_exact(self, text: str, *, integrators: Iterable[str]) -> list[Order]:
        """Orders whose id is ``text``, or whose external reference is ``text`` for any of
        these integrators (their ids are derived from it: one batch read, no index)."""
        text = text.strip()
        if not text:
            return []
        candidates = [text] + [reference_order_id(i, text) for i in integrators]
        return self.orders.get_many(candidates)

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

    def orders_for_technician(self, technician_id: str, *, limit: int = 50) -> list[Order]:
        return self.orders.list_by_technician(technician_id, limit=limit)

    def visits_between(self, start: datetime, end: datetime, *, limit: int = 200) -> list[Order]:
        return self.orders.visits_between(start, end, limit=limit)

    def backlog(
        self, *, limit: int = BACKLOG_BATCH, categories: Collection[str] = ()
    ) -> list[Order]:
        """Orders waiting for a team (in ``accepted``), oldest first, at most ``limit``."""
        return self.orders.oldest_first(Status.ACCEPTED, limit=limit, categories=categories)

    def sorted_orders(
        self,
        *,
        sort: str,
        filters: OrderFilter | None = None,
        integrator: str | None = None,
        cap: int = SORT_CAP,
    ) -> SortedOrders:
        """The newest ``cap`` matching orders in ``sort``'s order (see :data:`SORTS`).

        The table keeps orders newest first per status; other orders are put together here, so
        a sort covers at most ``cap`` orders and says when more matched (``capped``)."""
        key, descending = SORTS[sort]
        found: list[Order] = []
        cursor = None
        while len(found) < cap:
            page = self.list_orders(
                filters=filters,
                integrator=integrator,
                limit=min(cap - len(found), MAX_PAGE_SIZE),
                cursor=cursor,
            )
            found.extend(page.items)
            cursor = page.next_cursor
            if not cursor:
                break
        found.sort(key=key, reverse=descending)
        return SortedOrders(items=found, capped=cursor is not None)


_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
_URGENCY = {str(p): rank for rank, p in enumerate(reversed(list(Priority)))}


def _sla_key(order: Order) -> tuple:
    # Orders without a due time (paused, not yet reviewed, done) after every dated one.
    return (order.sla_due_at is None, order.sla_due_at or _FAR_FUTURE, order.created_at)


#: A listing's orders: name -> (sort key, descending). "created" (newest first) is the
#: table's own order; the others are sorted by :meth:`OrderSelector.sorted_orders`.
SORTS: dict[str, tuple[Callable[[Order], Any], bool]] = {
    "created": (lambda order: order.created_at, True),
    "-created": (lambda order: order.created_at, False),
    "sla": (_sla_key, False),
    "-sla": (
        lambda order: (order.sla_due_at is not None, order.sla_due_at or _FAR_FUTURE),
        True,
    ),
    "priority": (lambda order: (_URGENCY[str(order.priority)], order.created_at), False),
    "-priority": (lambda order: (-_URGENCY[str(order.priority)], order.created_at), False),
}


@dataclass(frozen=True)
class SortedOrders:
    items: list[Order]
    #: More orders matched than were sorted (the newest ``SORT_CAP`` were).
    capped: bool
