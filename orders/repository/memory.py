"""In-memory repositories for fast unit tests of the services. Never used by the product.

Put together like ``DynamoOrderRepository``: a part per protocol of ``orders.repository.base``
(``InMemoryOrderStore``, ``InMemoryOrderQueries``, ``InMemorySearch``), each holding exactly
its protocol's methods, over the orders they all share (``InMemoryState``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from orders.domain import search
from orders.domain.errors import ConcurrencyConflict, OrderAlreadyExists, OrderNotFound
from orders.domain.model import Attachment, HistoryEntry, Note, Order
from orders.events.contract import EventMessage

from .base import OrderFilter, Page, SearchResult, clamp_page_size
from .cursor import decode_cursor, encode_cursor


class InMemoryState:
    """The orders, notes and attachments every in-memory part reads and writes: one copy,
    so that the parts put together behave as one repository."""

    def __init__(self, *, cursor_secret: bytes = b"memory"):
        self._orders: dict[str, Order] = {}
        self._notes: dict[str, list[Note]] = {}
        self._attachments: dict[str, dict[str, Attachment]] = {}
        #: Every committed event in commit order: what the table's stream would carry.
        self.stream: list[EventMessage] = []
        self._lock = threading.Lock()
        self._secret = cursor_secret


class InMemoryOrderStore(InMemoryState):
    """One order at a time (a part of ``InMemoryOrderRepository``)."""

    def add(self, order: Order, message: EventMessage) -> None:
        with self._lock:
            if order.id in self._orders:
                if _committed(self._orders[order.id], message.event_id):
                    return  # a retry of this very write (as DynamoDB's repository answers)
                raise OrderAlreadyExists(order.id)
            self._orders[order.id] = order
            self.stream.append(message)

    def save_move(
        self,
        order: Order,
        message: EventMessage,
        *,
        expected_status: str,
        expected_version: int,
        adds: Sequence[Note | Attachment] = (),
    ) -> None:
        with self._lock:
            current = self._orders.get(order.id)
            if current is None:
                raise OrderNotFound(order.id)
            if _committed(current, message.event_id):
                return
            if current.status != expected_status or current.version != expected_version:
                raise ConcurrencyConflict(
                    order_id=order.id,
                    expected_status=expected_status,
                    expected_version=expected_version,
                    actual_status=current.status,
                    actual_version=current.version,
                )
            if any(
                isinstance(a, Attachment) and a.id in self._attachments.get(a.order_id, {})
                for a in adds
            ):
                raise ConcurrencyConflict(
                    order_id=order.id,
                    expected_status=expected_status,
                    expected_version=expected_version,
                    actual_status=current.status,
                    actual_version=current.version,
                )
            self._orders[order.id] = order
            for child in adds:
                child = replace(child, event_id=message.event_id)
                if isinstance(child, Note):
                    self._notes.setdefault(child.order_id, []).append(child)
                else:
                    self._attachments.setdefault(child.order_id, {})[child.id] = child
            self.stream.append(message)

    def notes(self, order_id: str) -> list[Note]:
        return sorted(self._notes.get(order_id, []), key=lambda n: (n.at, n.id))

    def attachments(self, order_id: str) -> list[Attachment]:
        return sorted(self._attachments.get(order_id, {}).values(), key=lambda a: (a.at, a.id))

    def attachment(self, order_id: str, attachment_id: str) -> Attachment | None:
        return self._attachments.get(order_id, {}).get(attachment_id)

    def get(self, order_id: str) -> Order:
        try:
            return self._orders[order_id]
        except KeyError:
            raise OrderNotFound(order_id) from None

    def history(self, order_id: str) -> list[HistoryEntry]:
        return list(self.get(order_id).history)


class InMemoryOrderQueries(InMemoryState):
    """The reads of many orders (a part of ``InMemoryOrderRepository``)."""

    def get_many(self, order_ids: Iterable[str]) -> list[Order]:
        return [self._orders[i] for i in dict.fromkeys(order_ids) if i in self._orders]

    def list_by_technician(self, technician_id: str, *, limit: int = 50) -> list[Order]:
        mine = [
            o
            for o in self._orders.values()
            if o.technician is not None and o.technician.id == technician_id
        ]
        mine.sort(key=lambda o: (o.created_at, o.id), reverse=True)
        return mine[: clamp_page_size(limit)]

    def visits_between(self, start: datetime, end: datetime, *, limit: int = 200) -> list[Order]:
        found = [o for o in self._orders.values() if o.visit and start <= o.visit.start < end]
        found.sort(key=lambda o: (o.visit.start, o.id))
        return found[:limit]

    def list_by_status(
        self, status: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Order]:
        return self._page(f"status/{status}", lambda o: o.status == status, limit, cursor)

    def list_by_integrator(
        self,
        integrator: str,
        *,
        filters: OrderFilter | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Order]:
        filters = filters or OrderFilter()
        return self._page(
            f"integrator/{integrator}/{filters.fingerprint}",
            lambda o: o.integrator == integrator and filters.matches(o),
            limit,
            cursor,
        )

    def list_recent(
        self, *, filters: OrderFilter | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Order]:
        filters = filters or OrderFilter()
        return self._page(f"recent/{filters.fingerprint}", filters.matches, limit, cursor)

    def count_by_status(self, status: str, *, cap: int = 1000) -> tuple[int, bool]:
        count = sum(1 for o in self._orders.values() if o.status == status)
        return min(count, cap), count > cap

    def count_stuck(
        self, status: str, *, changed_before: datetime, cap: int = 1000
    ) -> tuple[int, bool]:
        count = sum(
            1
            for o in self._orders.values()
            if o.status == status and o.status_changed_at < changed_before
        )
        return min(count, cap), count > cap

    def count_due(self, status: str, *, due_before: datetime, cap: int = 1000) -> tuple[int, bool]:
        count = sum(
            1
            for o in self._orders.values()
            if o.status == status and o.sla_due_at is not None and o.sla_due_at < due_before
        )
        return min(count, cap), count > cap

    def oldest_in_status(self, status: str) -> Order | None:
        matching = [o for o in self._orders.values() if o.status == status]
        return min(matching, key=lambda o: (o.created_at, o.id)) if matching else None

    def oldest_first(
        self,
        status: str,
        *,
        limit: int,
        categories: Collection[str] = (),
        before: Order | None = None,
    ) -> list[Order]:
        matching = sorted(
            (
                o
                for o in self._orders.values()
                if o.status == status
                and (not categories or o.category in categories)
                and (before is None or (o.created_at, o.id) < (before.created_at, before.id))
            ),
            key=lambda o: (o.created_at, o.id),
        )
        return matching[: clamp_page_size(limit)]

    def _page(self, scope: str, match, limit: int, cursor: str | None) -> Page[Order]:
        ordered = sorted(
            (o for o in self._orders.values() if match(o)),
            key=lambda o: (o.created_at, o.id),
            reverse=True,
        )
        start = 0
        if cursor:
            start = decode_cursor(cursor, scope=scope, secret=self._secret)["offset"]
        size = clamp_page_size(limit)
        items = ordered[start : start + size]
        more = start + size < len(ordered)
        next_cursor = (
            encode_cursor({"offset": start + size}, scope=scope, secret=self._secret)
            if more
            else None
        )
        return Page(items=items, next_cursor=next_cursor)


class InMemorySearch(InMemoryState):
    """The search side (a part of ``InMemoryOrderRepository``): it searches the orders
    themselves, so there is no index to keep."""

    def search(self, terms: Sequence[str], *, limit: int = 50) -> SearchResult:
        terms = list(terms)
        if not terms:
            return SearchResult(items=[], more=False)
        with self._lock:
            found = [o for o in self._orders.values() if search.matches(o, terms)]
        found.sort(key=lambda o: (o.created_at, o.id), reverse=True)
        size = clamp_page_size(limit)
        return SearchResult(items=found[:size], more=len(found) > size)

    def index_for_search(self, orders: Iterable[Order]) -> int:
        return 0  # it searches the orders themselves


class InMemoryOrderRepository(InMemoryOrderStore, InMemoryOrderQueries, InMemorySearch):
    """The ``OrderRepository`` of ``orders.repository.base`` in memory: its ``OrderStore``,
    ``OrderQueries`` and ``OrderSearch`` parts over one ``InMemoryState``."""


class InMemoryTeamLoads:
    def __init__(self) -> None:
        self._held: dict[str, set[str]] = {}
        self._waiting: dict[str, int] = {}
        self._leads: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def holdings(self, team_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        return {t: frozenset(self._held.get(t, ())) for t in team_ids}

    def reserve(self, team_id: str, order_id: str, *, capacity: int) -> bool:
        with self._lock:
            held = self._held.setdefault(team_id, set())
            if order_id in held:
                return True
            if len(held) >= capacity:
                return False
            held.add(order_id)
            return True

    def release(self, team_id: str, order_id: str) -> None:
        with self._lock:
            self._held.get(team_id, set()).discard(order_id)

    def waiting_mark(self, category: str, *, max_age: float = 0.0) -> int | None:
        return self._waiting.get(category)

    def join_waiting(self, category: str) -> None:
        with self._lock:
            self._waiting[category] = self._waiting.get(category, 0) + 1

    def clear_waiting(self, category: str, seen: int) -> bool:
        with self._lock:
            if self._waiting.get(category) != seen:
                return False
            del self._waiting[category]
            return True

    def lead_backlog(self, category: str, owner: str, *, seconds: float) -> bool:
        with self._lock:
            holder, until = self._leads.get(category, (None, 0.0))
            if holder not in (None, owner) and until > time.monotonic():
                return False
            self._leads[category] = (owner, time.monotonic() + seconds)
            return True

    def leave_backlog(self, category: str, owner: str) -> None:
        with self._lock:
            if self._leads.get(category, (None, 0))[0] == owner:
                del self._leads[category]


def _committed(order: Order, event_id: str) -> bool:
    """Whether ``order`` already holds the change with this event id (a retried write)."""
    return any(entry.event_id == event_id for entry in order.history)
