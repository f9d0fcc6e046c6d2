"""The repository protocols: what the services need from storage, in domain terms."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from orders.domain.model import Attachment, HistoryEntry, Note, Order, PlaceRef
from orders.events.contract import EventMessage

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class OrderFilter:
    """Narrows a listing. Times are the order's creation time: after is inclusive, before is
    exclusive."""

    statuses: frozenset[str] = frozenset()
    created_after: datetime | None = None
    created_before: datetime | None = None
    priorities: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    #: Orders whose SLA is due before this time (breached, or due soon).
    sla_due_before: datetime | None = None
    categories: frozenset[str] = frozenset()
    #: Exact sites, as stored (trimmed, case as given).
    sites: frozenset[str] = frozenset()
    #: The orders at one of the integrators' sites, or at one asset (by id): a listing with
    #: either reads that place's own index (``by-site``, ``by-asset``).
    site_id: str | None = None
    asset_id: str | None = None

    @property
    def fingerprint(self) -> str:
        """Part of a cursor's scope: a cursor only continues the listing it came from."""
        parts = [
            ",".join(sorted(self.statuses)),
            str(self.created_after),
            str(self.created_before),
            ",".join(sorted(self.priorities)),
            ",".join(sorted(self.teams)),
            str(self.sla_due_before),
        ]
        # Later filters only when set, so the cursors of listings without them stay valid.
        if self.categories:
            parts.append("category:" + ",".join(sorted(self.categories)))
        if self.sites:
            # A digest: the scope travels in every cursor, and sites are up to 300 characters
            # of anything (commas and bars included).
            digest = hashlib.sha256(json.dumps(sorted(self.sites)).encode()).hexdigest()[:32]
            parts.append("site:" + digest)
        if self.site_id:
            parts.append("site_id:" + self.site_id)
        if self.asset_id:
            parts.append("asset_id:" + self.asset_id)
        return "|".join(parts)

    def matches(self, order: Order) -> bool:
        return (
            (not self.statuses or order.status in self.statuses)
            and (self.created_after is None or order.created_at >= self.created_after)
            and (self.created_before is None or order.created_at < self.created_before)
            and (not self.priorities or order.priority in self.priorities)
            and (not self.teams or order.assigned_team in self.teams)
            and (not self.categories or order.category in self.categories)
            and (not self.sites or order.site in self.sites)
            and (self.site_id is None or _at(order.site_ref, self.site_id))
            and (self.asset_id is None or _at(order.asset_ref, self.asset_id))
            and (
                self.sla_due_before is None
                or (order.sla_due_at is not None and order.sla_due_at < self.sla_due_before)
            )
        )


def _at(place: PlaceRef | None, place_id: str) -> bool:
    return place is not None and place.id == place_id


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    #: Opaque; pass it back to get the next page. ``None`` on the last page.
    next_cursor: str | None


@dataclass(frozen=True)
class SearchResult:
    """Orders a search found, newest first; ``more``: others match too (add a term)."""

    items: list[Order]
    more: bool


class OrderStore(Protocol):
    """One order at a time, with its history and its not-yet-published event: what the
    services write and read back.

    Every write is a single conditional write of one order: the order, its new history entry
    and the event to publish are stored together or not at all. Publishing is the event
    relay's job: it reads what was committed (the table's stream), so no event is lost.
    """

    def add(self, order: Order, message: EventMessage) -> None:
        """Store a new order; :class:`OrderAlreadyExists` if the id is taken."""

    def get(self, order_id: str) -> Order:
        """:class:`OrderNotFound` if there is no such order."""

    def save_move(
        self,
        order: Order,
        message: EventMessage,
        *,
        expected_status: str,
        expected_version: int,
        adds: Sequence[Note | Attachment] = (),
    ) -> None:
        """Store ``order`` (whose last history entry is new) if the stored one still has
        ``expected_status`` and ``expected_version``; else :class:`ConcurrencyConflict`.
        ``adds``: notes or attachments stored with the change, stamped with its event id (an
        attachment id already stored is a :class:`ConcurrencyConflict` too). Should the change
        not be stored, they may be (a crash between two writes): readers show only those
        whose change the order holds (``orders.domain.model.recorded``)."""

    def history(self, order_id: str) -> list[HistoryEntry]: ...

    def notes(self, order_id: str) -> list[Note]:
        """The order's notes, oldest first."""

    def attachments(self, order_id: str) -> list[Attachment]:
        """The order's attachments, oldest first."""

    def attachment(self, order_id: str, attachment_id: str) -> Attachment | None: ...


class OrderQueries(Protocol):
    """Many orders at a time: the lists and counts the API, the admin and the backlog read
    (from indexes, so a little behind the orders; bounded reads, never a scan)."""

    def get_many(self, order_ids: Iterable[str]) -> list[Order]:
        """The orders that exist among these ids."""

    def list_by_status(
        self, status: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[Order]:
        """Newest first."""

    def list_by_integrator(
        self,
        integrator: str,
        *,
        filters: OrderFilter | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[Order]:
        """Newest first."""

    def list_recent(
        self,
        *,
        filters: OrderFilter | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[Order]:
        """Every order, newest first."""

    def list_by_technician(self, technician_id: str, *, limit: int = 50) -> list[Order]:
        """The orders given to a technician, newest first."""

    def visits_between(self, start: datetime, end: datetime, *, limit: int = 200) -> list[Order]:
        """Orders whose latest visit starts in ``[start, end)``, earliest first."""

    def count_by_status(self, status: str, *, cap: int = 1000) -> tuple[int, bool]:
        """The number of orders in ``status`` (at most ``cap``; the flag: maybe more)."""

    def count_stuck(
        self, status: str, *, changed_before: datetime, cap: int = 1000
    ) -> tuple[int, bool]:
        """Orders in ``status`` since before ``changed_before`` (at most ``cap``)."""

    def count_due(self, status: str, *, due_before: datetime, cap: int = 1000) -> tuple[int, bool]:
        """Orders in ``status`` whose SLA is due before ``due_before`` (at most ``cap``)."""

    def oldest_in_status(self, status: str) -> Order | None:
        """The earliest created order still in ``status``."""

    def oldest_first(
        self,
        status: str,
        *,
        limit: int,
        categories: Collection[str] = (),
        before: Order | None = None,
    ) -> list[Order]:
        """Up to ``limit`` orders in ``status``, earliest created first: only those of
        ``categories`` (if any) and created before ``before`` (if given). Bounded reads;
        entries may lag the orders a little (an index): read an order again to act on it."""


class OrderSearch(Protocol):
    """Finding orders by the words of their title, site and reference, or their id; and
    making orders stored before search existed findable (``manage.py index_search``)."""

    def search(self, terms: Sequence[str], *, limit: int = DEFAULT_PAGE_SIZE) -> SearchResult:
        """Orders every term starts a word of (``orders.domain.search``), newest first."""

    def index_for_search(self, orders: Iterable[Order]) -> int:
        """Make these orders findable (again): for orders stored before search existed, or
        whose index entries were lost. Idempotent; returns how many entries it wrote."""


class OrderRepository(OrderStore, OrderQueries, OrderSearch, Protocol):
    """The whole repository (``DynamoOrderRepository``, ``InMemoryOrderRepository``)."""


class TeamLoads(Protocol):
    """Which open orders each team holds; the accepted worker assigns by it."""

    def holdings(self, team_ids: Iterable[str]) -> dict[str, frozenset[str]]: ...

    def reserve(self, team_id: str, order_id: str, *, capacity: int) -> bool:
        """Add the order to the team unless the team is full (idempotent); ``False`` if full."""

    def release(self, team_id: str, order_id: str) -> None:
        """Remove the order from the team (idempotent)."""

    # The category's backlog marker: whether orders wait for one of its teams, so that an
    # arriving order and freed capacity know in one read whether to look for waiting ones.

    def waiting_mark(self, category: str, *, max_age: float = 0.0) -> int | None:
        """The marker's count of joins, or ``None`` when nobody is marked waiting; with
        ``max_age``, an answer this process read at most that many seconds ago will do."""

    def join_waiting(self, category: str) -> None:
        """Mark that an order waits (each join bumps the count)."""

    def clear_waiting(self, category: str, seen: int) -> bool:
        """Remove the marker if nobody joined since it read ``seen``; ``False`` otherwise."""

    def lead_backlog(self, category: str, owner: str, *, seconds: float) -> bool:
        """Become the category's one assigner for up to ``seconds``; ``False`` if another
        holds it."""

    def leave_backlog(self, category: str, owner: str) -> None:
        """Stop being the category's assigner (if ``owner`` still is)."""


def clamp_page_size(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE_SIZE))
