"""What facilities ask of the apps that point at them, without knowing them: the orders at a
site or an asset (an asset's page lists them; archiving a site or retiring an asset asks
whether open ones remain), and the maintenance planned there. ``portal.container`` hands in
the orders' and the plans' answers; facilities import neither app (``.importlinter``:
facilities-knows-no-orders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class OrderLine:
    """One order as a site's or an asset's page lists it, in people's words."""

    id: str
    title: str
    #: The status as people say it ("Scheduled", "On hold").
    status: str
    #: The priority as people say it ("High").
    priority: str
    created_at: datetime
    #: Still being worked on (not completed, cancelled or rejected).
    open: bool
    #: The staff page of the order.
    url: str


@dataclass(frozen=True)
class OrdersAt:
    """The orders at a place: the open ones and the latest closed ones, newest first."""

    open: list[OrderLine]
    past: list[OrderLine]
    #: More open orders exist than ``open`` lists.
    more_open: bool = False


class PlaceOrders(Protocol):
    """The orders pointing at a site or an asset (``portal.container.place_orders``)."""

    def at_site(self, site_id: str, *, limit: int = 20) -> OrdersAt: ...

    def at_asset(self, asset_id: str, *, limit: int = 20) -> OrdersAt: ...


@dataclass(frozen=True)
class UpcomingWork:
    """One coming occurrence of a maintenance plan at a place."""

    plan_id: str
    plan_name: str
    due_at: datetime
    #: When its order is (or was) created: ``due_at`` less the plan's lead time.
    creates_at: datetime
    #: "Planned", "Order created", "Skipped: <reason>", "Paused".
    state: str
    #: The staff page of the plan.
    url: str


class PlannedWork(Protocol):
    """The maintenance planned at a site or an asset (``portal.container.planned_work``)."""

    def upcoming_at_site(self, site_id: str, *, limit: int = 10) -> list[UpcomingWork]: ...

    def upcoming_at_asset(self, asset_id: str, *, limit: int = 10) -> list[UpcomingWork]: ...

    def active_plans_at_asset(self, asset_id: str) -> list[str]:
        """The names of the active plans on the asset (they keep it from being retired)."""
        ...


class NoOrdersAnywhere:
    """Until the orders point at places: no orders at any."""

    def at_site(self, site_id: str, *, limit: int = 20) -> OrdersAt:
        return OrdersAt(open=[], past=[])

    def at_asset(self, asset_id: str, *, limit: int = 20) -> OrdersAt:
        return OrdersAt(open=[], past=[])


class NothingPlanned:
    """Until maintenance plans exist: nothing planned anywhere."""

    def upcoming_at_site(self, site_id: str, *, limit: int = 10) -> list[UpcomingWork]:
        return []

    def upcoming_at_asset(self, asset_id: str, *, limit: int = 10) -> list[UpcomingWork]:
        return []

    def active_plans_at_asset(self, asset_id: str) -> list[str]:
        return []
