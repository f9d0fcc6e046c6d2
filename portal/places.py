"""The adapters between the orders and the places they point at (sites and assets), which the
composition root (``portal.container``) hands each side. Neither side knows the other
(``.importlinter``): the orders ask a ``PlaceDirectory`` (``orders.services.ports``) whether a
site or an asset may take a new order, and facilities ask a ``PlaceOrders`` and a
``SiteUsage`` (``facilities.ports``, ``facilities.services``) which orders are at a place.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from facilities.models import Site
from facilities.order_places import Place, places_for_order
from facilities.ports import OrderLine, OrdersAt
from orders.domain import labels
from orders.domain.model import Order, PlaceRef
from orders.domain.workflow import TERMINAL_STATUSES
from orders.selectors import OrderSelector

#: Open orders named when they keep a site from being archived (the rest are counted).
BLOCKERS_NAMED = 5


class FacilitiesPlaceDirectory:
    """The orders' ``PlaceDirectory`` over facilities' sites and assets."""

    def resolve(
        self, integrator: str, *, site_id: str | None, asset_id: str | None
    ) -> tuple[PlaceRef | None, PlaceRef | None]:
        site, asset = places_for_order(integrator, site_id=site_id, asset_id=asset_id)
        return _ref(site), _ref(asset)


def _ref(place: Place | None) -> PlaceRef | None:
    return PlaceRef(id=place.id, code=place.code, name=place.name) if place else None


def order_admin_url(order_id: str) -> str:
    """The staff page of an order."""
    return reverse("admin:orders_workorder_change", args=[order_id])


class OrdersAtPlaces:
    """Facilities' ``PlaceOrders``: the orders at a site or on an asset, in people's words.
    The open ones are all read (to the selector's bound), so that a check asking whether any
    remain never misses an old one behind many finished ones."""

    def __init__(self, read: OrderSelector, *, url: Callable[[str], str] = order_admin_url):
        self._read = read
        self._url = url

    def at_site(self, site_id: str, *, limit: int = 20) -> OrdersAt:
        return self._at(limit, site_id=site_id)

    def at_asset(self, asset_id: str, *, limit: int = 20) -> OrdersAt:
        return self._at(limit, asset_id=asset_id)

    def _at(self, limit: int, **place: str) -> OrdersAt:
        open_orders, stopped = self._read.open_at(**place)
        past = self._read.orders_at(finished=True, limit=limit, **place).items
        return OrdersAt(
            open=[self._line(o) for o in open_orders[:limit]],
            past=[self._line(o) for o in past[:limit]],
            more_open=stopped or len(open_orders) > limit,
        )

    def _line(self, order: Order) -> OrderLine:
        return OrderLine(
            id=order.id,
            title=order.title,
            status=labels.status_label(order.status),
            priority=labels.priority_label(order.priority),
            created_at=order.created_at,
            open=order.status not in TERMINAL_STATUSES,
            url=self._url(order.id),
        )


class OpenOrdersUseSites:
    """Facilities' ``SiteUsage``: a site that open orders are at is not archived."""

    def __init__(self, read: OrderSelector):
        self._read = read

    def archive_blockers(self, site: Site) -> list[str]:
        open_orders, stopped = self._read.open_at(site_id=str(site.pk))
        if not open_orders and stopped:  # none open among the newest: the older ones unread
            return [
                "More orders are at it than one check reads (about 20,000), so it cannot be "
                "told that none of them is open."
            ]
        if not open_orders:
            return []
        named = ", ".join(_order_name(o) for o in open_orders[:BLOCKERS_NAMED])
        if stopped or len(open_orders) > BLOCKERS_NAMED:
            named += ", …"
        if len(open_orders) == 1 and not stopped:
            return [f"1 open order is at it ({named}): complete or cancel it first."]
        count = f"More than {len(open_orders)}" if stopped else str(len(open_orders))
        return [f"{count} open orders are at it ({named}): complete or cancel them first."]


def _order_name(order: Order) -> str:
    """How an integrator tells its order: its own reference, or the start of the id."""
    return order.external_reference or order.id[:8]
