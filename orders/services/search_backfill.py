"""Staff search for orders stored before search existed, or whose index entries were lost
(``manage.py index_search``)."""

from __future__ import annotations

from collections.abc import Callable

from orders.domain.workflow import STATUSES
from orders.repository.base import OrderQueries, OrderSearch


class SearchBackfill:
    def __init__(self, *, queries: OrderQueries, search: OrderSearch):
        self._queries = queries
        self._search = search

    def index_for_search(
        self, *, report: Callable[[str, int, int], None] = lambda *_: None
    ) -> tuple[int, int]:
        """Make every stored order findable by staff search. Reads each status's orders from
        its index a page at a time (no scan); idempotent. Returns (orders, entries written);
        ``report(status, orders, entries)`` after each status."""
        orders_seen = entries = 0
        for status in STATUSES:
            in_status, cursor = 0, None
            while True:
                page = self._queries.list_by_status(status, limit=200, cursor=cursor)
                entries += self._search.index_for_search(page.items)
                in_status += len(page.items)
                cursor = page.next_cursor
                if not cursor:
                    break
            orders_seen += in_status
            report(str(status), in_status, entries)
        return orders_seen, entries
