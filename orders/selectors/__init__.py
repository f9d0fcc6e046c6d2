"""The reads: what the API, the admin and the workers look up, never changing anything.

Writes are in ``orders.services``; both stand on the same repository. Kept apart so a reader
sees at a glance which calls can move an order (HackSoft's services vs selectors). Two parts:
``one_order`` (an order and what hangs on it) and ``listings`` (many orders, counts, search);
the composition root (``portal.container.order_selector``) builds them as one selector.
"""

from __future__ import annotations

from .listings import BACKLOG_BATCH, SORT_CAP, SORTS, OrderListings, SortedOrders
from .one_order import OneOrderReads

__all__ = ["BACKLOG_BATCH", "SORTS", "SORT_CAP", "OrderSelector", "SortedOrders"]


class OrderSelector(OneOrderReads, OrderListings):
    """Every read, over one repository, calendar, clock and fan-out."""
