"""Reads of many orders: listings newest first or sorted, counts per status for the staff's
figures, search, a technician's orders and visits, and the line of orders waiting for a team."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from orders.domain import search
from orders.domain.model import Order, Priority, reference_order_id
from orders.domain.workflow import OPEN_STATUSES, TERMINAL_STATUSES, Status
from orders.repository.base import MAX_PAGE_SIZE, OrderFilter, Page, SearchResult

from .base import SelectorBase

#: Waiting orders one assignment pass reads (oldest first); the periodic sweep takes the rest.
BACKLOG_BATCH = 50
#: How many orders a sort other than "newest first" puts in order.
SORT_CAP = 1000
#: Pages of up to 200 open orders (each reading at most 1,000 of the place's orders) that a
#: check for the open orders at a place reads: some 20,000 orders of one site or asset.
PLACE_SWEEP_PAGES = 20


class OrderListings(SelectorBase):
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

    def orders_at(
        self,
        *,
        site_id: str | None = None,
        asset_id: str | None = None,
        finished: bool = False,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Order]:
        """A page of the orders at a site or on an asset, newest first, everyone's (staff):
        the open ones, or the ``finished`` ones (completed, cancelled, rejected). Read from
        the place's own index (``by-site``, ``by-asset``)."""
        statuses = TERMINAL_STATUSES if finished else OPEN_STATUSES
        filters = OrderFilter(
            statuses=frozenset(str(s) for s in statuses), site_id=site_id, asset_id=asset_id
        )
        return self.orders.list_recent(filters=filters, limit=limit, cursor=cursor)

    def open_at(
        self,
        *,
        site_id: str | None = None,
        asset_id: str | None = None,
        max_pages: int = PLACE_SWEEP_PAGES,
    ) -> tuple[list[Order], bool]:
        """Every open order at a site or on an asset, newest first, for the checks that must
        not miss one (archiving a site, retiring an asset): pages followed to the end, at
        most ``max_pages`` of them; the flag says it stopped before the end."""
        found: list[Order] = []
        cursor = None
        for _ in range(max_pages):
            page = self.orders_at(
                site_id=site_id, asset_id=asset_id, limit=MAX_PAGE_SIZE, cursor=cursor
            )
            found.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                return found, False
        return found, True

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
#: table's own order; the others are sorted by :meth:`OrderListings.sorted_orders`.
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
